// The Go module from dist/go (npx projen package:go): the three constructs, instantiated from Go,
// synthesize one stack with the network, the cluster and the per-upload workload.
package languages

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-mlops-eks/cdk-mlops-eks-go/cdkmlopseks"
)

func synthesizeStack() assertions.Template {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("GoStack"), nil)
	network := cdkmlopseks.NewMlopsNetwork(stack, jsii.String("Network"), &cdkmlopseks.MlopsNetworkProps{
		VpcName: jsii.String("go-vpc"),
	})
	cluster := cdkmlopseks.NewMlopsEksCluster(stack, jsii.String("EksCluster"), &cdkmlopseks.MlopsEksClusterProps{
		Vpc:               network.Vpc(),
		KubernetesVersion: awseksv2.KubernetesVersion_V1_36(),
		Keda:              jsii.Bool(true),
		ClusterName:       jsii.String("go-eks-cluster"),
	})
	cdkmlopseks.NewPodIdentityPreprocessing(stack, jsii.String("DataPreprocessing"), &cdkmlopseks.PodIdentityPreprocessingProps{
		Cluster: cluster.Cluster(),
		Trigger: cdkmlopseks.PreprocessingTrigger_OnUpload(&cdkmlopseks.UploadTriggerOptions{MaxParallelJobs: jsii.Number(3)}),
	})
	return assertions.Template_FromStack(stack, nil)
}

func TestTheThreeConstructsSynthesizeFromGo(t *testing.T) {
	template := synthesizeStack()

	template.HasResourceProperties(jsii.String("AWS::EC2::VPC"), map[string]interface{}{"CidrBlock": "10.10.0.0/16"})
	template.HasResourceProperties(jsii.String("AWS::EKS::Cluster"), map[string]interface{}{"Name": "go-eks-cluster"})
	template.ResourceCountIs(jsii.String("AWS::EKS::Nodegroup"), jsii.Number(1))
	template.HasResourceProperties(jsii.String("AWS::EKS::PodIdentityAssociation"), map[string]interface{}{
		"Namespace": "mlops", "ServiceAccount": "data-preprocessing-sa",
	})
	// onUpload: the queue and its dead-letter queue, and a KEDA ScaledJob with maxReplicaCount from
	// MaxParallelJobs (the manifest is a string joined with the queue's URL, so search the JSON).
	template.ResourceCountIs(jsii.String("AWS::SQS::Queue"), jsii.Number(2))
	text, err := json.Marshal(template.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{`ScaledJob`, `maxReplicaCount[\\"]*:3[,}]`} {
		if !regexp.MustCompile(pattern).Match(text) {
			t.Errorf("the template has no match for %s", pattern)
		}
	}
}
