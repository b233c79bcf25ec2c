#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for the `slurm` test tier (tests/slurm/).
#
#   tests/slurm/cluster.sh up [--no-accounting]   install (apt-get), start munged, [mariadb, slurmdbd,]
#                                                 slurmctld and slurmd; wait until the node is idle
#   tests/slurm/cluster.sh down                   cancel every job, stop the daemons this script started
#                                                 (by their PIDs), remove its configuration files
#   tests/slurm/cluster.sh status                 what is running; exit 0 when the cluster answers
#
# Needs root and apt-get (Debian's slurm-wlm 22.05, munge, and for accounting slurmdbd + mariadb-server).
# No systemd: Debian's policy-rc.d forbids service starts in containers, so every daemon is started
# here directly, in the foreground of its own session, and its PID is kept in $STATE/pids/. Accounting
# (sacct) needs slurmdbd and a MariaDB of its own (datadir and TCP port in $STATE, not the system's).
# It writes /etc/slurm/slurm.conf (and slurmdbd.conf) and refuses to overwrite files it did not write.
set -euo pipefail

STATE=${FGCORE_SLURM_STATE:-/var/lib/fgcore-slurm-test}
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
DB_PORT=${FGCORE_SLURM_DB_PORT:-33061}
DBD_PORT=${FGCORE_SLURM_DBD_PORT:-6819}
LAST=""   # the daemon started last (wait_for watches it)
MARK="# written by fgcore tests/slurm/cluster.sh: removed by 'cluster.sh down'"
CLUSTER=fgcoretest
DB_PASSWORD=fgcore-slurm-test   # a throwaway database reachable only on 127.0.0.1

say() { echo "cluster.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s%N; }
# Seconds since a now() value, one decimal.
since() { local ms=$(( ($(date +%s%N) - $1) / 1000000 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons as their users)"
}

# Wait until "$@" succeeds, at most $1 seconds, while the daemon last started lives; name what is
# awaited in the error.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$LAST" ] && ! alive "$LAST"; then
      tail -5 "$STATE/log/$LAST.log" >&2 || true
      die "$LAST exited while waiting for $what (log: $STATE/log/$LAST.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      die "$what did not happen within ${seconds} s (logs: $STATE/log/)"
    fi
    sleep 0.3
  done
}

install_packages() {
  local accounting=$1 packages=() bins=(slurmctld slurmd munged sbatch squeue)
  [ "$accounting" = 1 ] && bins+=(slurmdbd mariadbd)
  local missing=0
  for bin in "${bins[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing=1
  done
  [ "$missing" = 0 ] && return 0
  command -v apt-get >/dev/null || die "SLURM is not installed and there is no apt-get to install it"
  packages=(slurm-wlm munge)
  [ "$accounting" = 1 ] && packages+=(slurmdbd mariadb-server)
  say "installing ${packages[*]} (apt-get)"
  local t0; t0=$(now)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >"$STATE/log/apt.log" 2>&1 \
    || { tail -20 "$STATE/log/apt.log" >&2; die "apt-get install ${packages[*]} failed"; }
  say "installed in $(since "$t0") s"
}

# The node's name must resolve, or slurmd and slurmctld cannot find each other.
ensure_hostname() {
  local host; host=$(hostname -s)
  if ! getent hosts "$host" >/dev/null; then
    say "adding '127.0.1.1 $host' to /etc/hosts (the node name must resolve)"
    echo "127.0.1.1 $host" >>/etc/hosts
  fi
}

# Start a daemon in the foreground of its own session; keep its PID.
start() {
  local name=$1; shift
  setsid "$@" >>"$STATE/log/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name"
  LAST=$name
}

alive() { [ -f "$STATE/pids/$1" ] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }

munge_works() { munge -n </dev/null | unmunge >/dev/null; }

start_munge() {
  if munge_works 2>/dev/null; then
    say "munged is already running (not started here, will not be stopped here)"
    return
  fi
  [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground
  wait_for 20 "munged answering" munge_works
}

db() { mariadb --socket="$STATE/mysqld/mysqld.sock" -u root "$@"; }

start_mariadb() {
  install -d -o mysql -g mysql "$STATE/mysql" "$STATE/mysqld"
  mariadb-install-db --user=mysql --datadir="$STATE/mysql" --skip-test-db \
    --auth-root-authentication-method=socket >>"$STATE/log/mariadb.log" 2>&1 \
    || die "mariadb-install-db failed (log: $STATE/log/mariadb.log)"
  start mariadb /usr/sbin/mariadbd --user=mysql --datadir="$STATE/mysql" --socket="$STATE/mysqld/mysqld.sock" \
    --pid-file="$STATE/mysqld/mysqld.pid" --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve \
    --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --innodb-lock-wait-timeout=900
  wait_for 60 "MariaDB answering on $STATE/mysqld/mysqld.sock" db -e "SELECT 1"
  db -e "CREATE DATABASE slurm_acct_db;
         CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
         GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
}

start_slurmdbd() {
  cat >"$DBD_CONF" <<EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=slurm
LogFile=$STATE/log/slurmdbd.daemon.log
PidFile=$STATE/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
EOF
  chown slurm:slurm "$DBD_CONF" && chmod 600 "$DBD_CONF"
  start slurmdbd /usr/sbin/slurmdbd -D
  wait_for 60 "slurmdbd answering" sacctmgr -n list cluster
}

write_slurm_conf() {
  local accounting=$1 host node
  host=$(hostname -s)
  # The node as slurmd sees it (CPUs, sockets, RealMemory), so it is never drained for a mismatch.
  node=$(slurmd -C | head -1)
  node=${node/NodeName=* CPUs/NodeName=$host CPUs}
  install -d -o slurm -g slurm "$STATE/slurmctld"
  install -d "$STATE/slurmd"
  cat >"$CONF" <<EOF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
# A requeued job waits cred_expire + 1 s before it may start again (default 120 s); 10 s keeps the
# time-limit test of the tier short without changing what happens.
AuthInfo=cred_expire=10
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.daemon.log
SlurmdLogFile=$STATE/log/slurmd.daemon.log
# No cgroups without systemd: track processes by their parents, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# scancel and time limits take effect within seconds (the default waits 30 s before SIGKILL).
KillWait=5
InactiveLimit=0
JobRequeue=1
EOF
  if [ "$accounting" = 1 ]; then
    cat >>"$CONF" <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
EOF
  else
    cat >>"$CONF" <<EOF
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
EOF
  fi
  # No GresTypes line: an empty one is a parse error, and this node has no GPUs to declare.
  cat >>"$CONF" <<EOF
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() { sinfo -h -o %T | grep -qx idle; }

up() {
  need_root
  local accounting=1
  case "${1:-}" in
    --no-accounting) accounting=0 ;;
    --accounting|"") ;;
    *) die "unknown option $1 (use --no-accounting or nothing)" ;;
  esac
  for file in "$CONF" "$DBD_CONF"; do
    if [ -e "$file" ] && ! grep -qF "$MARK" "$file"; then
      die "$file exists and was not written by this script: not touching a real cluster's configuration"
    fi
  done
  [ -d "$STATE/pids" ] && down
  trap 'say "bring-up failed: stopping what was started"; down' ERR EXIT
  local t0; t0=$(now)
  # A fresh cluster; the tests' work folders ($STATE/work) stay for a look after a failure.
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name work -exec rm -rf {} + 2>/dev/null || true
  mkdir -p "$STATE/log" "$STATE/pids"
  chmod 755 "$STATE"
  install_packages "$accounting"
  local t1; t1=$(now)
  ensure_hostname
  mkdir -p /etc/slurm
  start_munge
  write_slurm_conf "$accounting"   # before slurmdbd: sacctmgr reads it to find slurmdbd
  if [ "$accounting" = 1 ]; then
    start_mariadb
    start_slurmdbd
  fi
  start slurmctld /usr/sbin/slurmctld -D -c
  wait_for 60 "slurmctld answering (scontrol ping)" sh -c 'scontrol ping | grep -q UP'
  start slurmd /usr/sbin/slurmd -D
  wait_for 60 "the node becoming idle (sinfo)" node_idle
  echo "$accounting" >"$STATE/accounting"
  trap - ERR EXIT
  say "up: cluster $CLUSTER, node $(hostname -s), accounting $([ "$accounting" = 1 ] && echo on || echo off);" \
      "daemons started in $(since "$t1") s ($(since "$t0") s with the package check)"
  sinfo >&2
}

stop_pid() {
  local name=$1 pid
  [ -f "$STATE/pids/$name" ] || return 0
  pid=$(cat "$STATE/pids/$name")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) did not stop within 20 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$STATE/pids/$name"
}

down() {
  need_root
  if alive slurmctld; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      say "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 100); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.3; done
    fi
  fi
  # slurmd first (its job steps end with it), the database last.
  for name in slurmd slurmctld slurmdbd mariadb munged; do
    stop_pid "$name"
  done
  for file in "$CONF" "$DBD_CONF"; do
    if [ -e "$file" ] && grep -qF "$MARK" "$file"; then rm -f "$file"; fi
  done
  say "down"
}

status() {
  local rc=0
  for name in munged mariadb slurmdbd slurmctld slurmd; do
    if [ -f "$STATE/pids/$name" ]; then
      if alive "$name"; then echo "$name: running, pid $(cat "$STATE/pids/$name")"
      else echo "$name: NOT running (pid $(cat "$STATE/pids/$name") gone; log $STATE/log/$name.log)"; rc=1; fi
    fi
  done
  [ -f "$STATE/accounting" ] && echo "accounting: $([ "$(cat "$STATE/accounting")" = 1 ] && echo on || echo off)"
  scontrol ping 2>/dev/null | grep -q UP || { echo "slurmctld: not answering"; rc=1; }
  return "$rc"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up [--no-accounting] | down | status" >&2; exit 2 ;;
esac
