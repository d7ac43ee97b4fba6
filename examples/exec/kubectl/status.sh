#!/bin/sh
# status_command for Kubernetes (see scale.sh): prints "READY REQUESTED", the Deployment's ready
# replicas and its spec.replicas. Kubernetes leaves readyReplicas out when none is ready.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DEPLOYMENT" >&2; exit 2; }
kubectl=${KUBECTL:-kubectl}
counts=$($kubectl ${NAMESPACE:+--namespace "$NAMESPACE"} get "deployment/$1" \
    -o 'jsonpath={.spec.replicas} {.status.readyReplicas}')
set -- $counts
echo "${2:-0} ${1:-0}"
