#!/bin/sh
# scale_command for systemd template units: instance i of blueprint B is the unit B@i.service
# (a template unit B@.service that you install; see B@.service.example beside this script).
# Starts B@1..B@N and stops every running instance above N.
#   scale_command  = ["examples/exec/systemd/scale.sh", "{blueprint}", "{instances}"]
#   status_command = ["examples/exec/systemd/status.sh", "{blueprint}"]
# SYSTEMCTL="systemctl --user" runs user units instead of system ones.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BLUEPRINT INSTANCES" >&2; exit 2; }
bp=$1 n=$2
case $n in '' | *[!0-9]*) echo "$0: instances '$n' is not a whole number" >&2; exit 2 ;; esac
systemctl=${SYSTEMCTL:-systemctl}

i=1
units=""
while [ "$i" -le "$n" ]; do
    units="$units $bp@$i.service"
    i=$((i + 1))
done
[ -z "$units" ] || $systemctl start $units

# Instances above N that are running or starting.
$systemctl list-units --plain --no-legend --all "$bp@*.service" |
    while read -r unit _load active _rest; do
        index=${unit#"$bp@"}
        index=${index%.service}
        case $active in active | activating | reloading) ;; *) continue ;; esac
        if [ "$index" -gt "$n" ] 2>/dev/null; then
            $systemctl stop "$unit"
        fi
    done
echo "$bp: $n instances requested"
