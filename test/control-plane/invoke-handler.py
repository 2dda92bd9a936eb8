# Runs aws-eks-v2's kubectl handler, unchanged, on one CloudFormation event (JSON on stdin), as
# the kubectl provider's Lambda function would: index.handler(event, context).
# argv[1] is the handler's directory (custom-resource-handlers/dist/aws-eks-v2/kubectl-handler).
import json
import sys

sys.path.insert(0, sys.argv[1])
import index  # noqa: E402  (the handler's own entry point)

index.handler(json.load(sys.stdin), None)
