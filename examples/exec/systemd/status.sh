#!/bin/sh
# status_command for systemd template units (see scale.sh): prints "READY REQUESTED", the
# instances B@i.service that are active and those active or still starting.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BLUEPRINT" >&2; exit 2; }
systemctl=${SYSTEMCTL:-systemctl}
$systemctl list-units --plain --no-legend --all "$1@*.service" |
    awk '$3 == "active" { ready++ } $3 == "active" || $3 == "activating" { requested++ }
         END { printf "%d %d\n", ready, requested }'
