#!/usr/bin/env bash
# ceph-rgw-up.sh — start a throw-away single-node Ceph (1 mon, 1 OSD, no mgr) and a RADOS Gateway
# (S3) on 127.0.0.1, for Holdfast's S3 tests and for trying an S3 endpoint by hand.
#
# Usage:   eval "$(scripts/ceph-rgw-up.sh [DATA_DIR])"   # exports S3_ENDPOINT, S3_ACCESS_KEY, ...
#          scripts/ceph-rgw-down.sh [DATA_DIR] [--purge]
#
# DATA_DIR defaults to $HOLDFAST_CEPH_DIR or /var/tmp/holdfast-ceph. Everything lives under it
# (ceph.conf, mon store, OSD data, logs, one PID file per daemon in run/); /etc/ceph is not used.
# stdout carries only `export VAR=...` lines (also written to DATA_DIR/s3.env); progress goes to
# stderr. Exit status is non-zero when the gateway did not come up; the daemons are then stopped.
#
# Object store: memstore by default (ready in a few seconds; the data lives in the OSD's RAM and
# is gone when it stops, so a stopped memstore cluster is started afresh). CEPH_OBJECTSTORE=
# bluestore keeps the data in a sparse file under DATA_DIR and restarts with it.
#
# Why each non-obvious setting is there: without cephx, radosgw must be told ms_mon_client_mode
# = crc (its default "secure" needs cephx); msgr2 only; a pool of size 1 needs
# mon_allow_pool_size_one; RGW makes its pools lazily, so the readiness check does a full signed
# round trip (bucket, put, get, multipart, delete) before printing the environment.
#
# Environment knobs (all optional):
#   CEPH_RGW_PORT=7480              S3 port on 127.0.0.1 (plain HTTP)
#   CEPH_MON_PORT=3300              monitor port (msgr2) on 127.0.0.1
#   CEPH_BIND_PORT_MIN/MAX=6800/7300  ports the OSD binds to on 127.0.0.1
#   CEPH_OBJECTSTORE=memstore       or bluestore
#   CEPH_OSD_SIZE_GB=4              memstore capacity / size of the sparse bluestore file
#   CEPH_RGW_ACCESS_KEY / CEPH_RGW_SECRET_KEY   the S3 user's keys (fixed defaults below)
#   CEPH_RGW_TIMEOUT=120            seconds to wait for each start-up stage
#   CEPH_RGW_NO_INSTALL=1           never run apt-get (fail when the packages are missing)
#   CEPH_RGW_KEEP_ON_FAIL=1         leave the daemons running when start-up fails (debugging)
#   CEPH_CPUS=LIST                  run the daemons on these CPUs only (taskset -c LIST, e.g. 1), so
#                                   that a benchmark run under `taskset -c 0` does not share its
#                                   cores with the object store (docs/benchmarks.md, S3 datastores)
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
DATA=${1:-${HOLDFAST_CEPH_DIR:-/var/tmp/holdfast-ceph}}
S3_PORT=${CEPH_RGW_PORT:-7480}
MON_PORT=${CEPH_MON_PORT:-3300}
BIND_MIN=${CEPH_BIND_PORT_MIN:-6800}
BIND_MAX=${CEPH_BIND_PORT_MAX:-7300}
STORE=${CEPH_OBJECTSTORE:-memstore}
OSD_SIZE_GB=${CEPH_OSD_SIZE_GB:-4}
AK=${CEPH_RGW_ACCESS_KEY:-HOLDFASTTESTACCESS01}
SK=${CEPH_RGW_SECRET_KEY:-holdfastTestSecretKey000000000000000001}
TIMEOUT=${CEPH_RGW_TIMEOUT:-120}
S3_UID=holdfast-test
REGION=us-east-1
ENDPOINT="http://127.0.0.1:${S3_PORT}"

exec 9>&2 # progress and errors reach the caller's stderr, even from inside $(...) helpers
log() { printf '[ceph-rgw-up %s] %s\n' "$(date +%T)" "$*" >&9; }
die() { log "ERROR: $*"; exit 1; }
case $STORE in bluestore | memstore) ;; *) die "CEPH_OBJECTSTORE must be memstore or bluestore" ;; esac
PIN=()
if [ -n "${CEPH_CPUS:-}" ]; then
  taskset -c "$CEPH_CPUS" true 2>/dev/null || die "CEPH_CPUS=$CEPH_CPUS is not a CPU list taskset accepts on this machine"
  PIN=(taskset -c "$CEPH_CPUS") # taskset execs the daemon: the PID file still names the daemon
fi

# ------------------------------------------------------------------------------------ packages
ensure_packages() {
  local missing=() p
  for p in ceph-mon ceph-osd radosgw curl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ -n "${CEPH_RGW_NO_INSTALL:-}" ] && die "missing packages: ${missing[*]} (CEPH_RGW_NO_INSTALL is set)"
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]}; install them or run as root"
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]} and no apt-get"
  log "installing ${missing[*]} (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  # try the current package lists first: an apt-get update costs more than the install
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
}
ensure_packages
for c in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl; do
  command -v "$c" >/dev/null || die "$c not found after install"
done

# ------------------------------------------------------------------------------------ layout
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd -P)
CONF=$DATA/ceph.conf
RUN=$DATA/run
LOGD=$DATA/log
C=(ceph -c "$CONF" --connect-timeout 10)

# a PID is alive only if it exists and is not a zombie
pid_alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
# alive NAME: run/NAME.pid names a live process started with this DATA_DIR's config (not a reused PID)
alive() {
  local f=$RUN/$1.pid p
  [ -s "$f" ] && p=$(cat "$f") && pid_alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$CONF"
}
for d in mon osd0 rgw; do
  if alive "$d"; then die "$d is already running (pid $(cat "$RUN/$d.pid")); run scripts/ceph-rgw-down.sh $DATA first"; fi
done
for port in "$S3_PORT" "$MON_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port on 127.0.0.1 is already in use"; fi
done

FRESH=1
if [ -f "$CONF" ] && [ -f "$DATA/mon/kv_backend" ] && [ -f "$DATA/osd0/mkfs_done" ] &&
  grep -q '^osd_objectstore = bluestore$' "$CONF" && [ "$STORE" = bluestore ]; then
  FRESH=0
  log "restarting the bluestore cluster in $DATA with its data"
elif [ -e "$CONF" ] || [ -d "$DATA/mon" ]; then
  # a memstore cluster cannot restart, and a half-made one is useless: start afresh, but only
  # in a directory this script made (it holds our ceph.conf or our layout)
  grep -q '^# generated by holdfast scripts/ceph-rgw-up.sh' "$CONF" 2>/dev/null ||
    die "$DATA holds something this script did not make; use an empty directory"
  log "discarding the old cluster in $DATA"
  rm -rf -- "$DATA/mon" "$DATA/osd0" "$DATA/rgw" "$DATA/run" "$DATA/log" "$DATA/crash" "$DATA/monmap" "$DATA/s3.env"
fi
mkdir -p "$RUN" "$LOGD" "$DATA/mon" "$DATA/osd0" "$DATA/rgw" "$DATA/crash"

stop_started() {
  local d
  for d in rgw osd0 mon; do if alive "$d"; then kill "$(cat "$RUN/$d.pid")" 2>/dev/null || true; fi; done
  for _ in $(seq 1 20); do
    alive rgw || alive osd0 || alive mon || break
    sleep 0.25
  done
  for d in rgw osd0 mon; do
    if alive "$d"; then kill -9 "$(cat "$RUN/$d.pid")" 2>/dev/null || true; fi
    rm -f "$RUN/$d.pid"
  done
}
on_exit() {
  local rc=$?
  [ $rc -eq 0 ] && return
  log "start-up FAILED (rc=$rc); last log lines:"
  for f in "$LOGD"/*.log "$LOGD"/*.out; do
    if [ -f "$f" ]; then echo "--- $f" >&9; tail -n 15 "$f" >&9; fi
  done
  [ -n "${CEPH_RGW_KEEP_ON_FAIL:-}" ] || stop_started
}
trap on_exit EXIT

# wait_for WHAT CMD...: retry CMD until it succeeds or TIMEOUT passes
wait_for() {
  local what=$1 t0=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -ge "$TIMEOUT" ] && die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.25
  done
  log "$what ok (${SECONDS}s since start)"
}
# start NAME CMD...: run a daemon (in foreground mode, -f) in the background and record its PID
start() {
  local name=$1 pid t0=$SECONDS
  shift
  nohup "${PIN[@]}" "$@" </dev/null >"$LOGD/$name.out" 2>&1 9>&- &
  pid=$!
  echo $pid >"$RUN/$name.pid"
  # Until the forked shell has exec'd nohup (then taskset, then the daemon), its command line is
  # this script's, which `alive` takes for a stranger's reused PID: a check right after the start
  # failed a loaded CI run with "rgw exited during start-up". Wait for the exec (or the exit).
  until ! pid_alive "$pid" || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF"; do
    [ $((SECONDS - t0)) -ge "$TIMEOUT" ] && die "$name did not start within ${TIMEOUT}s"
    sleep 0.05
  done
  log "started $name (pid $pid)"
}
check_alive() { alive "$1" || die "$1 exited during start-up (see $LOGD)"; }

# ------------------------------------------------------------------------------------ config
if [ $FRESH = 1 ]; then
  FSID=$(cat /proc/sys/kernel/random/uuid)
  BYTES=$((OSD_SIZE_GB * 1024 * 1024 * 1024))
  if [ "$STORE" = bluestore ]; then
    STORE_CONF="bluestore_block_create = true
bluestore_block_size = $BYTES
bluestore_fsck_on_mount = false"
  else
    STORE_CONF="memstore_device_bytes = $BYTES"
  fi
  cat >"$CONF" <<EOF
# generated by holdfast scripts/ceph-rgw-up.sh — single node, no auth, loopback only
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_port_min = $BIND_MIN
ms_bind_port_max = $BIND_MAX
# no cephx (only loopback can reach it); radosgw's default mon client mode "secure" needs cephx
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
run_dir = $RUN
admin_socket = $RUN/\$name.asok
log_file = $LOGD/\$name.log
crash_dir = $DATA/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# the default critical free-space level (5% of the host disk) makes the mon exit
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# the mon batches map changes every second by default; RGW's start makes about ten of them
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[mon]
mon_data = $DATA/mon

[osd]
osd_data = $DATA/osd0
osd_objectstore = $STORE
$STORE_CONF
osd_memory_target = 1073741824
osd_crush_initial_weight = 1

[client.rgw.a]
rgw_data = $DATA/rgw
rgw_frontends = beast endpoint=127.0.0.1:$S3_PORT
rgw_thread_pool_size = 64
rgw_crypt_require_ssl = false
debug_rgw = 1

[client.admin]
admin_socket =
log_file =
EOF
fi

# ------------------------------------------------------------------------------------ mon
if [ $FRESH = 1 ]; then
  monmaptool --create --fsid "$(sed -n 's/^fsid = //p' "$CONF")" \
    --addv a "[v2:127.0.0.1:$MON_PORT]" "$DATA/monmap" >"$LOGD/monmaptool.out" 2>&1
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DATA/monmap" >"$LOGD/mon-mkfs.out" 2>&1
fi
start mon ceph-mon -c "$CONF" -i a -f
wait_for "monitor quorum" "${C[@]}" mon stat
check_alive mon

# ------------------------------------------------------------------------------------ osd
if [ $FRESH = 1 ]; then
  OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
  "${C[@]}" osd new "$OSD_UUID" 0 >/dev/null
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$LOGD/osd-mkfs.out" 2>&1 ||
    die "ceph-osd --mkfs failed: $(tail -n 3 "$LOGD/osd-mkfs.out")"
else
  # after an unclean stop the osdmap still says osd.0 is up at its old address: mark it down,
  # so that "up" below means the new process booted
  "${C[@]}" osd down 0 >/dev/null 2>&1 || true
fi
start osd0 ceph-osd -c "$CONF" -i 0 -f
osd_up() { check_alive osd0 && "${C[@]}" osd stat -f json | grep -q '"num_up_osds":1'; }
wait_for "osd.0 up" osd_up

# ------------------------------------------------------------------------------------ rgw
start rgw radosgw -c "$CONF" -n client.rgw.a -f
rgw_http() { check_alive rgw && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ENDPOINT/")" = 200 ]; }
wait_for "radosgw HTTP on $ENDPOINT" rgw_http

# ------------------------------------------------------------------------------------ user
RGWADM=(radosgw-admin -c "$CONF" -n client.admin)
if ! "${RGWADM[@]}" user info --uid="$S3_UID" >/dev/null 2>&1; then
  "${RGWADM[@]}" user create --uid="$S3_UID" --display-name="Holdfast tests" \
    --access-key="$AK" --secret-key="$SK" >"$LOGD/user-create.out" 2>&1 ||
    die "radosgw-admin user create failed: $(tail -n 3 "$LOGD/user-create.out")"
elif ! "${RGWADM[@]}" user info --uid="$S3_UID" 2>/dev/null | grep -q "\"access_key\": \"$AK\""; then
  "${RGWADM[@]}" key create --uid="$S3_UID" --key-type=s3 --access-key="$AK" --secret-key="$SK" >/dev/null
fi

# ------------------------------------------------------------------------------------ readiness
# A SigV4-signed round trip with curl; it also makes RGW create its lazy pools now, so that the
# first test does not pay for it.
s3() {
  curl -sS --max-time 20 -o "$RUN/ready.body" -w '%{http_code}' --aws-sigv4 "aws:amz:$REGION:s3" \
    --user "$AK:$SK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
s3_roundtrip() {
  local b=holdfast-ready-check code id
  code=$(s3 -X PUT "$ENDPOINT/$b") || return 1
  case $code in 200 | 409) ;; *) return 1 ;; esac
  printf 'ready\n' >"$RUN/ready.txt"
  [ "$(s3 -T "$RUN/ready.txt" "$ENDPOINT/$b/probe")" = 200 ] || return 1
  [ "$(s3 "$ENDPOINT/$b/probe")" = 200 ] && grep -qx ready "$RUN/ready.body" || return 1
  # "?uploads=" because curl 7.88 signs a bare "?uploads" wrongly (SignatureDoesNotMatch)
  [ "$(s3 -X POST "$ENDPOINT/$b/mp?uploads=")" = 200 ] || return 1
  id=$(sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p' "$RUN/ready.body")
  [ -n "$id" ] && [ "$(s3 -X DELETE "$ENDPOINT/$b/mp?uploadId=$id")" = 204 ] || return 1
  [ "$(s3 -X DELETE "$ENDPOINT/$b/probe")" = 204 ] || return 1
  [ "$(s3 -X DELETE "$ENDPOINT/$b")" = 204 ] || return 1
  rm -f "$RUN/ready.body" "$RUN/ready.txt"
}
wait_for "S3 signed round trip" s3_roundtrip

trap - EXIT
ENV_FILE=$DATA/s3.env
cat >"$ENV_FILE" <<EOF
export S3_ENDPOINT=$ENDPOINT
export S3_ACCESS_KEY=$AK
export S3_SECRET_KEY=$SK
export S3_REGION=$REGION
export AWS_ACCESS_KEY_ID=$AK
export AWS_SECRET_ACCESS_KEY=$SK
export AWS_REGION=$REGION
EOF
chmod 600 "$ENV_FILE"
log "S3 ready at $ENDPOINT after ${SECONDS}s ($STORE; data $DATA; env $ENV_FILE; use path-style)"
cat "$ENV_FILE"
