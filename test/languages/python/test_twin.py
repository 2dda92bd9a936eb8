"""examples/python/app.py, on the built wheel, synthesizes what examples/app.ts synthesizes.

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
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[3]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
PYTHON_APP_DIR = ROOT / "examples" / "python"

# The example's default, and every context key it reads set to a non-default value.
CONTEXTS: Dict[str, List[str]] = {
    "defaults": [],
    "all-context": [
        "kubernetesVersion=1.32",
        "adminRoleArn=arn:aws:iam::123456789012:role/Admin",
        "publicAccessCidrs=203.0.113.7/32, 198.51.100.0/24",
        "bucketNamePrefix=acme-eks-demo",
        "owner=data-team",
    ],
}


def synth(cwd: Path, context: List[str], outdir: Path) -> Dict[str, object]:
    """Runs `cdk synth` in cwd (whose cdk.json names the app) and returns the cloud assembly's
    templates and asset manifests by file name."""
    args = [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", str(outdir)]
    for entry in context:
        args += ["--context", entry]
    subprocess.run(args, cwd=cwd, check=True, env=os.environ)
    files = sorted(outdir.glob("*.template.json")) + sorted(outdir.glob("*.assets.json"))
    return {path.name: json.loads(path.read_text()) for path in files}


@pytest.fixture(scope="module", params=list(CONTEXTS), ids=list(CONTEXTS))
def assemblies(request: pytest.FixtureRequest):
    context = CONTEXTS[request.param]
    with tempfile.TemporaryDirectory() as tmp:
        typescript = synth(ROOT, context, Path(tmp) / "typescript")
        python = synth(PYTHON_APP_DIR, context, Path(tmp) / "python")
    return typescript, python


def test_the_same_stacks_and_asset_manifests(assemblies) -> None:
    typescript, python = assemblies
    assert sorted(python) == sorted(typescript)
    assert "EksClusterStack.template.json" in typescript and "NetworkStack.template.json" in typescript


def test_identical_templates_and_asset_hashes(assemblies) -> None:
    typescript, python = assemblies
    for name in sorted(typescript):
        expected = json.dumps(typescript[name], indent=1, sort_keys=True).splitlines()
        actual = json.dumps(python[name], indent=1, sort_keys=True).splitlines()
        diff = list(difflib.unified_diff(expected, actual, "typescript/" + name, "python/" + name, lineterm="", n=2))
        assert not diff, "\n".join(diff[:80])


def test_the_processor_image_asset_is_in_both(assemblies) -> None:
    typescript, python = assemblies
    images = python["EksClusterStack.assets.json"]["dockerImages"]
    assert len(images) == 1
    assert images == typescript["EksClusterStack.assets.json"]["dockerImages"]
