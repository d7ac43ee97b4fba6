#!/bin/sh
# scale_command for Docker Compose: the blueprint is a service of the compose project in
# COMPOSE_DIR (default: the node's working directory).
#   scale_command  = ["examples/exec/docker-compose/scale.sh", "{blueprint}", "{instances}"]
#   status_command = ["examples/exec/docker-compose/status.sh", "{blueprint}"]
set -eu
[ $# -eq 2 ] || { echo "usage: $0 SERVICE INSTANCES" >&2; exit 2; }
cd "${COMPOSE_DIR:-.}"
exec docker compose up --detach --no-recreate --scale "$1=$2" "$1"
