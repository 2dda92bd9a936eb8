module github.com/cdk-mlops-eks/cdk-mlops-eks/test/languages/go

go 1.25

require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.276.0
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk-mlops-eks/cdk-mlops-eks-go/cdkmlopseks v0.0.0
)

// The module that `npx projen package:go` writes (run.sh adds the local bindings of bindings.sh in a copy).
replace github.com/cdk-mlops-eks/cdk-mlops-eks-go/cdkmlopseks => ../../../dist/go/cdkmlopseks
