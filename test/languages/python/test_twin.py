"""examples/python/app.py, on the built wheel, synthesizes what examples/app.ts synthesizes.

Twins in behaviour, not only in the default template: every kubernetesVersion context value that
examples/app.ts accepts (read from its source, so a value added there is tried here) gives the same
templates and the same warnings in manifest.json (acknowledged ones included), and a value it
refuses is refused by both with the same message.

Run by test/languages/python/run.sh inside a fresh venv that holds the wheel from dist/python and
the aws-cdk-lib, constructs and kubectl layer versions that npm installed. Both apps are synthesized
by the same cdk CLI (node_modules/.bin/cdk) with the same cdk.json context, once per context set, and
every template and asset manifest must be equal, asset hashes included.

One setting, not a normalization: both run with --no-version-reporting, as `npm run synth:example`
does; with it on, the CDKMetadata resource would name each app's language runtime.
"""
import difflib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[3]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
PYTHON_APP_DIR = ROOT / "examples" / "python"

TYPESCRIPT_APP = ROOT / "examples" / "app.ts"
# The kubernetesVersion values examples/app.ts accepts: its `version === '<value>'` branches.
ACCEPTED_KUBERNETES_VERSIONS = re.findall(r"version === '([0-9.]+)'", TYPESCRIPT_APP.read_text())

# The example's default, every kubernetesVersion it accepts, and every context key it reads set to
# a non-default value.
CONTEXTS: Dict[str, List[str]] = {
    "defaults": [],
    **{f"kubernetesVersion={version}": [f"kubernetesVersion={version}"] for version in ACCEPTED_KUBERNETES_VERSIONS},
    "all-context": [
        "kubernetesVersion=1.32",
        "adminRoleArn=arn:aws:iam::123456789012:role/Admin",
        "publicAccessCidrs=203.0.113.7/32, 198.51.100.0/24",
        "bucketNamePrefix=acme-eks-demo",
        "owner=data-team",
    ],
}


def cdk_synth(cwd: Path, context: List[str], outdir: Path) -> subprocess.CompletedProcess:
    args = [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", str(outdir)]
    for entry in context:
        args += ["--context", entry]
    return subprocess.run(args, cwd=cwd, env=os.environ, capture_output=True, text=True, timeout=900)


def synth(cwd: Path, context: List[str], outdir: Path) -> Dict[str, object]:
    """Runs `cdk synth` in cwd (whose cdk.json names the app) and returns the cloud assembly's
    templates and asset manifests by file name, and its messages as "messages"."""
    result = cdk_synth(cwd, context, outdir)
    assert result.returncode == 0, result.stderr[-4000:]
    files = sorted(outdir.glob("*.template.json")) + sorted(outdir.glob("*.assets.json"))
    assembly: Dict[str, object] = {path.name: json.loads(path.read_text()) for path in files}
    assembly["messages"] = messages(json.loads((outdir / "manifest.json").read_text()))
    return assembly


def messages(manifest: Dict) -> List[List[str]]:
    """Every warning, error, info and acknowledgement of manifest.json's artifacts, as
    [artifact, construct path, type, text] (without the stack traces, which name each runtime)."""
    found = []
    for artifact, properties in manifest.get("artifacts", {}).items():
        for path, entries in properties.get("metadata", {}).items():
            for entry in entries:
                if entry["type"].startswith("aws:cdk:") and entry["type"] != "aws:cdk:logicalId":
                    found.append([artifact, path, entry["type"], json.dumps(entry.get("data"), sort_keys=True)])
    return sorted(found)


@pytest.fixture(scope="module", params=list(CONTEXTS), ids=list(CONTEXTS))
def assemblies(request: pytest.FixtureRequest):
    context = CONTEXTS[request.param]
    with tempfile.TemporaryDirectory() as tmp:
        typescript = synth(ROOT, context, Path(tmp) / "typescript")
        python = synth(PYTHON_APP_DIR, context, Path(tmp) / "python")
    return typescript, python


def test_the_typescript_app_accepts_both_kubernetes_versions_of_the_readme() -> None:
    assert ACCEPTED_KUBERNETES_VERSIONS == ["1.36", "1.32"]


def test_the_same_stacks_and_asset_manifests(assemblies) -> None:
    typescript, python = assemblies
    assert sorted(python) == sorted(typescript)
    assert "EksClusterStack.template.json" in typescript and "NetworkStack.template.json" in typescript


def test_identical_templates_and_asset_hashes(assemblies) -> None:
    typescript, python = assemblies
    for name in sorted(name for name in typescript if name != "messages"):
        expected = json.dumps(typescript[name], indent=1, sort_keys=True).splitlines()
        actual = json.dumps(python[name], indent=1, sort_keys=True).splitlines()
        diff = list(difflib.unified_diff(expected, actual, "typescript/" + name, "python/" + name, lineterm="", n=2))
        assert not diff, "\n".join(diff[:80])


def test_the_processor_image_asset_is_in_both(assemblies) -> None:
    typescript, python = assemblies
    images = python["EksClusterStack.assets.json"]["dockerImages"]
    assert len(images) == 1
    assert images == typescript["EksClusterStack.assets.json"]["dockerImages"]


def test_the_same_warnings_in_manifest_json(assemblies) -> None:
    """The same warnings, acknowledged the same way (an unacknowledged one would show here)."""
    typescript, python = assemblies
    assert python["messages"] == typescript["messages"]
    assert not [m for m in typescript["messages"] if m[2] == "aws:cdk:warning"], typescript["messages"]


def test_a_refused_kubernetes_version_is_refused_by_both_with_the_same_message() -> None:
    context = ["kubernetesVersion=1.30"]
    refusal = "context kubernetesVersion must be '1.36' or '1.32', got '1.30'"
    with tempfile.TemporaryDirectory() as tmp:
        typescript = cdk_synth(ROOT, context, Path(tmp) / "typescript")
        python = cdk_synth(PYTHON_APP_DIR, context, Path(tmp) / "python")
    assert typescript.returncode != 0 and refusal in typescript.stderr, typescript.stderr[-2000:]
    assert python.returncode != 0 and refusal in python.stderr, python.stderr[-2000:]
