#!/usr/bin/env bash
# ceph-rgw-down.sh — stop the daemons that scripts/ceph-rgw-up.sh started under DATA_DIR, by the
# PID files in DATA_DIR/run only (radosgw, then the OSD, then the mon): it never kills by name.
#
# Usage: scripts/ceph-rgw-down.sh [DATA_DIR] [--purge]
#   DATA_DIR defaults to $HOLDFAST_CEPH_DIR or /var/tmp/holdfast-ceph; --purge also removes it.
set -uo pipefail

DATA=${HOLDFAST_CEPH_DIR:-/var/tmp/holdfast-ceph}
PURGE=0
for a in "$@"; do
  case $a in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) DATA=$a ;;
  esac
done
pid_alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
log() { printf '[ceph-rgw-down %s] %s\n' "$(date +%T)" "$*" >&2; }
[ -d "$DATA" ] || { log "$DATA does not exist; nothing to do"; exit 0; }
DATA=$(cd "$DATA" && pwd -P)
RUN=$DATA/run
rc=0

# stop NAME: TERM the PID in run/NAME.pid if it is still our daemon, wait up to 20 s, then KILL
stop() {
  local name=$1 f=$RUN/$1.pid pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if ! pid_alive "$pid"; then log "$name (pid $pid) was not running"; rm -f "$f"; return 0; fi
  # a reused PID: the process must have been started with this DATA_DIR's config
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DATA/ceph.conf"; then
    log "pid $pid is not $name of $DATA; leaving it alone"; rm -f "$f"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.2; done
  if pid_alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 20 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.5
  fi
  if pid_alive "$pid"; then log "$name (pid $pid) is still alive"; rc=1; return; fi
  log "stopped $name (pid $pid)"
  rm -f "$f"
}

# the order matters: the OSD tells the mon it is going down (and waits for it)
stop rgw
stop osd0
stop mon

if [ $PURGE = 1 ] && [ $rc = 0 ]; then
  rm -rf -- "$DATA" && log "removed $DATA"
fi
exit $rc
