#!/bin/sh
# scale_command for Kubernetes: the blueprint is a Deployment of the same name.
#   scale_command  = ["examples/exec/kubectl/scale.sh", "{blueprint}", "{instances}"]
#   status_command = ["examples/exec/kubectl/status.sh", "{blueprint}"]
# NAMESPACE selects the namespace (default: the context's); KUBECTL another binary or context,
# e.g. KUBECTL="kubectl --context prod".
set -eu
[ $# -eq 2 ] || { echo "usage: $0 DEPLOYMENT REPLICAS" >&2; exit 2; }
kubectl=${KUBECTL:-kubectl}
exec $kubectl ${NAMESPACE:+--namespace "$NAMESPACE"} scale "deployment/$1" --replicas="$2"
