"""The example app with your own transform: the walkthrough's pandas script (examples/transforms/)
in its own image, on the library's runtime (SPEC §14).

Everything else is examples/python/app.py's: the same stacks, names, trigger (one Job per CSV
uploaded under data/), role, buckets, alarms. Each run's pod gets the launcher from the bundled
image through an init container; the pandas image runs unchanged, read-only, as uid 1000.

    pip install -r requirements.txt
    cdk synth --app "python3 command_transform_app.py"
    cdk deploy --app "python3 command_transform_app.py" --all
"""
from pathlib import Path

from aws_cdk import App
from cdk_mlops_eks import PreprocessingTransform, ProcessorImage

from app import build_example_app

# examples/transforms/: the pandas script and its Dockerfile (a path from this file, so `cdk` may
# run from any directory).
TRANSFORMS = Path(__file__).resolve().parent.parent / "transforms"


def pandas_transform() -> PreprocessingTransform:
    """The walkthrough's pandas script, built from its Dockerfile as a CDK image asset (linux/amd64)."""
    return PreprocessingTransform.command(
        image=ProcessorImage.from_directory(str(TRANSFORMS)),
        command=["python3", "preprocess.py"],
    )


if __name__ == "__main__":
    app = App()
    build_example_app(app, transform=pandas_transform())
    app.synth()
