"""examples/python/command_transform_app.py, on the built wheel: a Python CDK app declares the
walkthrough's pandas script (examples/transforms/) as a command transform (SPEC §14, issue 24).

Run by test/languages/python/run.sh (the wheel from dist/python in a fresh venv), synthesized once
by the same cdk CLI as test_twin.py.
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[3]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
PYTHON_APP_DIR = ROOT / "examples" / "python"
LAUNCHER_RUN = ["/mlops/bin/mlops-launcher", "run", "--"]


@pytest.fixture(scope="module")
def assembly():
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cdk.out"
        subprocess.run(
            [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--app", "python3 command_transform_app.py", "--output", str(out)],
            cwd=PYTHON_APP_DIR, check=True, env=os.environ,
        )
        template = json.loads((out / "EksClusterStack.template.json").read_text())
        assets = json.loads((out / "EksClusterStack.assets.json").read_text())
        transform_sources = {
            key: (out / image["source"]["directory"] / "preprocess.py").exists() for key, image in assets["dockerImages"].items()
        }
        yield template, assets, transform_sources


def render(value: Any) -> str:
    """A manifest property as text, deploy-time values as placeholders."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return value["Fn::Join"][0].join(render(part) for part in value["Fn::Join"][1])
    return "{{deploy-time}}"


def scaled_job(template: Dict[str, Any]) -> Dict[str, Any]:
    found: List[Dict[str, Any]] = []
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
            found += [o for o in json.loads(render(resource["Properties"]["Manifest"])) if o["kind"] == "ScaledJob"]
    assert len(found) == 1
    return found[0]


def test_the_pandas_image_is_an_asset_of_its_own_beside_the_processor(assembly) -> None:
    _, assets, transform_sources = assembly
    images = assets["dockerImages"]
    assert len(images) == 2
    assert sorted(transform_sources.values()) == [False, True]
    pandas = next(images[key] for key, is_transform in transform_sources.items() if is_transform)
    assert pandas["source"]["platform"] == "linux/amd64"


def test_the_pod_runs_the_script_through_the_launcher_beside_the_runtime(assembly) -> None:
    template, _, _ = assembly
    spec = scaled_job(template)["spec"]["jobTargetRef"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["install-launcher"]
    assert [c["name"] for c in spec["containers"]] == ["runtime", "transform"]
    runtime, transform = spec["containers"]
    assert transform["command"] == LAUNCHER_RUN + ["python3", "preprocess.py"]
    env = {e["name"]: e["value"] for e in runtime["env"]}
    assert env["TRANSFORM"] == "command"
    assert json.loads(env["TRANSFORM_COMMAND"]) == ["python3", "preprocess.py"]
    mounts = {m["name"]: m.get("readOnly", False) for m in transform["volumeMounts"]}
    assert mounts["mlops-launcher"] is True
