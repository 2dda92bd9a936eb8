"""The walkthrough's app in Python on this library: the twin of examples/app.ts.

NetworkStack and EksClusterStack with the walkthrough's names and tags and this library's safer
defaults (see the README's table). Same stacks, construct ids, context keys and tags as
examples/app.ts, so both synthesize the same templates (test/languages/python checks it).

    pip install -r requirements.txt
    cdk synth                                    # Kubernetes 1.36
    cdk synth -c kubernetesVersion=1.32          # the walkthrough's version
    cdk synth -c adminRoleArn=arn:aws:iam::123456789012:role/Admin   # who may run kubectl
    cdk synth -c publicAccessCidrs=203.0.113.7/32                    # kubectl from your machine
    cdk synth -c bucketNamePrefix=acme-eks-demo  # bucket names are global: pick a free prefix

The workload runs once per uploaded object: after `cdk deploy`,
`aws s3 cp data/mock_data.csv s3://eks-demo-raw-data-bucket/data/` runs the pipeline.

Stacks are environment-agnostic like the walkthrough's; `cdk deploy` uses your CLI's account
and region.
"""
from typing import Any, Dict, List, Optional, Tuple

from aws_cdk import Annotations, App, RemovalPolicy, Stack, Tags
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk.lambda_layer_kubectl_v32 import KubectlV32Layer
from cdk_mlops_eks import MlopsEksCluster, MlopsNetwork, PodIdentityPreprocessing, PreprocessingTransform, PreprocessingTrigger
from constructs import Construct

APP_PREFIX = "eks-demo"


class NetworkStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = MlopsNetwork(self, "Network", vpc_name=f"{APP_PREFIX}-vpc", network_acls=True)


class EksClusterStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: MlopsNetwork,
        kubernetes_version: str,
        bucket_name_prefix: str,
        admin_role_arn: Optional[str] = None,
        public_access_cidrs: Optional[List[str]] = None,
        transform: Optional[PreprocessingTransform] = None,
        **kwargs: Any,
    ) -> None:
        """kubernetes_version: '1.36', or '1.32' for the walkthrough's. public_access_cidrs: CIDRs that may reach the Kubernetes API from the internet;
        none keeps the endpoint private. bucket_name_prefix: prefix of the five bucket names (they are
        global across AWS accounts). transform: what each run does (None: the walkthrough's built-in
        transform; examples/python/command_transform_app.py gives a pandas script)."""
        super().__init__(scope, construct_id, **kwargs)
        self.cluster = MlopsEksCluster(
            self,
            "EksCluster",
            vpc=network.vpc,
            cluster_name=f"{APP_PREFIX}-eks-cluster",
            nodegroup_name=f"{APP_PREFIX}-primary-nodegroup",
            node_labels={"node-type": "primary", "environment": "sandbox"},
            public_access_cidrs=public_access_cidrs,
            # KEDA starts the per-upload Jobs; it belongs to the cluster, not to the workload.
            keda=True,
            **kubernetes_version_props(self, kubernetes_version),
        )
        # The walkthrough's node group name, kept as the walkthrough has it. A fixed name means that a
        # change replacing the node group (instance types, capacity type, AMI type, subnets) must also
        # rename it; see the README's "Kubernetes upgrades and other node group changes".
        Annotations.of(self.cluster).acknowledge_warning(
            "cdk-mlops-eks:fixedNodegroupName",
            "The walkthrough names its node group; a replacing change renames it in the same deploy (README).",
        )
        if admin_role_arn:
            self.cluster.grant_cluster_admin(iam.Role.from_role_arn(self, "AdminRole", admin_role_arn))

        self.preprocessing = PodIdentityPreprocessing(
            self,
            "DataPreprocessing",
            cluster=self.cluster.cluster,
            namespace="mlops",
            service_account_name="data-preprocessing-sa",
            job_name="data-preprocessing",
            role_name=f"{APP_PREFIX}-data-preprocessing-role",
            # Every CSV uploaded under data/ is processed by its own Job (S3 → SQS → KEDA).
            trigger=PreprocessingTrigger.on_upload(),
            transform=transform,
            bucket_name_prefix=bucket_name_prefix,
            # The data buckets send their access logs to the walkthrough's logs bucket.
            create_additional_buckets=True,
            # A demo, like the walkthrough: buckets go away with the stack.
            bucket_removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )


def kubernetes_version_props(scope: Construct, version: str) -> Dict[str, Any]:
    """The Kubernetes version is always named, never left to the library: 1.36 (whose kubectl layer
    the library bundles) or the walkthrough's 1.32 with its own kubectl layer."""
    if version == "1.36":
        return {"kubernetes_version": eks.KubernetesVersion.V1_36}
    if version == "1.32":
        return {"kubernetes_version": eks.KubernetesVersion.V1_32, "kubectl_layer": KubectlV32Layer(scope, "KubectlLayer")}
    raise ValueError(f"context kubernetesVersion must be '1.36' or '1.32', got '{version}'")


def build_example_app(app: App, transform: Optional[PreprocessingTransform] = None) -> Tuple[NetworkStack, EksClusterStack]:
    """Builds the example app; context: kubernetesVersion ('1.36' | '1.32', default '1.36'), adminRoleArn,
    publicAccessCidrs (comma-separated), bucketNamePrefix, owner. transform: see EksClusterStack."""

    def context(key: str) -> Any:
        return app.node.try_get_context(key)

    network = NetworkStack(app, "NetworkStack", description="eks-demo: VPC for the EKS MLOps preprocessing pipeline")
    cluster = EksClusterStack(
        app,
        "EksClusterStack",
        description="eks-demo: EKS cluster, Pod Identity, buckets and the data-preprocessing Job",
        network=network.network,
        kubernetes_version=js_string(context("kubernetesVersion"), "1.36"),
        admin_role_arn=context("adminRoleArn"),
        public_access_cidrs=list_context(context("publicAccessCidrs")),
        bucket_name_prefix=js_string(context("bucketNamePrefix"), APP_PREFIX),
        transform=transform,
    )
    cluster.add_stack_dependency(network)

    tags = {
        "Application": APP_PREFIX,
        "Owner": js_string(context("owner"), "mlops-team"),
        "Environment": "Sandbox",
        "Project": "AWSInfra",
        "ManagedBy": "CDK",
    }
    for key, value in tags.items():
        Tags.of(app).add(key, value)
    return network, cluster


def js_string(value: Any, default: str) -> str:
    """`String(value ?? default)` of examples/app.ts: a context value as a string, the default if unset."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_context(value: Any) -> Optional[List[str]]:
    """A comma-separated context value as a list; unset or blank gives None."""
    items = [item.strip() for item in js_string(value, "").split(",")]
    items = [item for item in items if item != ""]
    return items if items else None


if __name__ == "__main__":
    app = App()
    build_example_app(app)
    app.synth()
