#!/bin/sh
# status_command for Docker Compose (see scale.sh): prints "READY REQUESTED", the service's
# containers that are running (and healthy, when the service has a health check) and all of
# its containers.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 SERVICE" >&2; exit 2; }
cd "${COMPOSE_DIR:-.}"
docker compose ps --all --format '{{.State}} {{.Health}}' "$1" |
    awk '{ requested++ } $1 == "running" && ($2 == "" || $2 == "healthy") { ready++ }
         END { printf "%d %d\n", ready, requested }'
