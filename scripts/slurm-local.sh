#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for the sweep test and for trying `ssl-ad sweep --slurm` by hand.
#
#   scripts/slurm-local.sh up      # start munged (if not running), slurmctld and slurmd; prints SLURM_CONF
#   export SLURM_CONF=/tmp/slurm-local/slurm.conf
#   sinfo; sbatch ...; squeue
#   scripts/slurm-local.sh down    # stop the daemons this script started (by their pid files)
#   scripts/slurm-local.sh status  # exit 0 when the node answers and is idle/mixed/allocated
#
# Needs the Debian packages slurm-wlm and munge (`apt-get install -y slurm-wlm munge`; .ci/run installs
# them) and root (slurmd runs jobs as the submitting user; munged and the daemons want root here).
# Everything the cluster writes (state, spool, logs, pid files, slurm.conf) lives in $SLURM_LOCAL_DIR
# (default /tmp/slurm-local). Ports: SLURM_LOCAL_CTLD_PORT (6817) and SLURM_LOCAL_SLURMD_PORT (6818).
set -euo pipefail

dir="${SLURM_LOCAL_DIR:-/tmp/slurm-local}"
conf="$dir/slurm.conf"
ctld_port="${SLURM_LOCAL_CTLD_PORT:-6817}"
slurmd_port="${SLURM_LOCAL_SLURMD_PORT:-6818}"
host="$(hostname -s)"

say() { echo "[slurm-local] $*" >&2; }

need() {
  for bin in slurmctld slurmd sbatch sinfo munged munge unmunge; do
    command -v "$bin" >/dev/null 2>&1 || { say "missing $bin: apt-get install -y slurm-wlm munge"; exit 3; }
  done
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then say "munged already running; using it"; return; fi
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key --force
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  munged --force --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/state/munged.seed"
  for _ in $(seq 1 50); do munge_ok && return; sleep 0.1; done
  say "munged did not come up; see $dir/log/munged.log"; exit 1
}

write_conf() {
  local cpus
  cpus="$(nproc)"
  cat >"$conf" <<CONF
# Written by scripts/slurm-local.sh: a one-node cluster on $host.
ClusterName=sslad-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
MinJobAge=600
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

up() {
  need
  mkdir -p "$dir"/{state,spool,log,run}
  start_munge
  write_conf
  export SLURM_CONF="$conf"
  pid_alive "$dir/run/slurmctld.pid" || slurmctld -f "$conf"
  pid_alive "$dir/run/slurmd.pid" || slurmd -f "$conf"
  for _ in $(seq 1 100); do
    state="$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n1 || true)"
    case "$state" in
      idle|mixed|allocated) say "node $host is $state; export SLURM_CONF=$conf"; echo "$conf"; return 0 ;;
      down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  say "the node did not become idle; logs in $dir/log"
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  exit 1
}

stop_pidfile() {
  local file="$1" pid
  [ -s "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  stop_pidfile "$dir/run/slurmd.pid"
  stop_pidfile "$dir/run/slurmctld.pid"
  # Only the munged this script started (its pid file is ours); a system munged is left alone.
  stop_pidfile "$dir/run/munged.pid"
  say "stopped"
}

status() {
  export SLURM_CONF="$conf"
  [ -f "$conf" ] || exit 1
  state="$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n1 || true)"
  echo "${state:-unreachable}"
  case "$state" in idle|mixed|allocated) exit 0 ;; *) exit 1 ;; esac
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
