module github.com/cdk-mlops-eks/processor/launcher

go 1.26
