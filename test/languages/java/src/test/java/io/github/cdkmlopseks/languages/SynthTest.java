package io.github.cdkmlopseks.languages;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.cdkmlopseks.MlopsEksCluster;
import io.github.cdkmlopseks.MlopsNetwork;
import io.github.cdkmlopseks.PodIdentityPreprocessing;
import io.github.cdkmlopseks.PreprocessingTrigger;
import io.github.cdkmlopseks.UploadTriggerOptions;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.eks_v2.KubernetesVersion;

/** The Java package from dist/java: the three constructs, instantiated from Java, synthesize one stack. */
class SynthTest {
  private static Template template;

  @BeforeAll
  static void synthesize() {
    App app = new App();
    Stack stack = new Stack(app, "JavaStack");
    MlopsNetwork network = MlopsNetwork.Builder.create(stack, "Network").vpcName("java-vpc").build();
    MlopsEksCluster cluster = MlopsEksCluster.Builder.create(stack, "EksCluster")
        .vpc(network.getVpc())
        .kubernetesVersion(KubernetesVersion.V1_36)
        .keda(true)
        .clusterName("java-eks-cluster")
        .build();
    PodIdentityPreprocessing.Builder.create(stack, "DataPreprocessing")
        .cluster(cluster.getCluster())
        .trigger(PreprocessingTrigger.onUpload(UploadTriggerOptions.builder().maxParallelJobs(3).build()))
        .build();
    template = Template.fromStack(stack);
  }

  @Test
  void theNetworkIsTheWalkthroughsVpc() {
    template.hasResourceProperties("AWS::EC2::VPC", Map.of("CidrBlock", "10.10.0.0/16"));
  }

  @Test
  void theClusterAndItsNodegroup() {
    template.hasResourceProperties("AWS::EKS::Cluster", Map.of("Name", "java-eks-cluster"));
    template.resourceCountIs("AWS::EKS::Nodegroup", 1);
  }

  @Test
  void theWorkloadRunsOncePerUploadUnderPodIdentity() {
    template.hasResourceProperties("AWS::EKS::PodIdentityAssociation",
        Map.of("Namespace", "mlops", "ServiceAccount", "data-preprocessing-sa"));
    // The queue and its dead-letter queue; the ScaledJob's maxReplicaCount is maxParallelJobs (the
    // manifest is a string joined with the queue's URL, so the template's JSON is searched).
    template.resourceCountIs("AWS::SQS::Queue", 2);
    String json = template.toJSON().toString();
    assertTrue(json.contains("ScaledJob"), "no ScaledJob in the template");
    assertTrue(json.matches("(?s).*maxReplicaCount[\\\\\"]*:3[,}].*"), "no maxReplicaCount 3 in the template");
  }
}
