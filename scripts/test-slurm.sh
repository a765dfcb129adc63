#!/usr/bin/env bash
# test-slurm: a real single-node Slurm (Debian's slurm-wlm and munge) runs
# `sweep launch slurm --submit`: a 4-task job array of sweep workers on a
# 40-trial synthetic study in a private PostgreSQL cluster. One task is
# scancel'ed mid-run; afterwards the study must hold exactly 40 trials,
# none RUNNING after the heartbeat grace, no trial number twice, and the
# workers' ids must name their Slurm array tasks.
#
# Needs root (slurmd runs the jobs as root here; munged as munge). Installs
# slurm-wlm and munge with apt-get when they are missing. Everything else
# lives in a temporary directory, removed at the end (KEEP=1 keeps it).
set -euo pipefail

BIN=${BIN:-bin/sweep}
BIN=$(realpath "$BIN")
if [[ $(id -u) != 0 ]]; then
	echo "test-slurm: needs root (slurmd, munged); run: sudo make test-slurm" >&2
	exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
	echo "test-slurm: installing slurm-wlm and munge" >&2
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
fi

T=$(mktemp -d /tmp/sweep-slurm-XXXXXX)
chmod 755 "$T" # the private cluster's server account must enter it
PIDS=()
cleanup() {
	set +e
	[[ -n ${JOB:-} ]] && scancel "$JOB" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	"$BIN" db down --pg-dir "$T/pg" >/dev/null 2>&1
	if [[ -z ${KEEP:-} ]]; then rm -rf "$T"; else echo "test-slurm: kept $T" >&2; fi
}
trap cleanup EXIT

# munge: its own socket and pid file under $T, the system key.
mkdir -p "$T/munge"
chown munge:munge "$T/munge"
chmod 755 "$T/munge" # munged wants its socket directory searchable by all
runuser -u munge -- munged --foreground --socket="$T/munge/munge.socket" \
	--pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed" &
PIDS+=($!)

HOST=$(hostname -s)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$T/state" "$T/spool" "$T/logs"
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=sweeptest
SlurmctldHost=$HOST
SlurmctldPort=$(port)
SlurmdPort=$(port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
KillWait=10
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
NodeName=$HOST CPUs=8 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
for i in $(seq 50); do [[ -S $T/munge/munge.socket ]] && break; sleep 0.1; done
[[ -S $T/munge/munge.socket ]] || { echo "test-slurm: munged did not start" >&2; exit 1; }
slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N "$HOST" >"$T/slurmd.out" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do
	sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)' && break
	sleep 0.2
done
if ! sinfo -h -o '%T' | grep -qE '^(idle|mixed)'; then
	echo "test-slurm: node not idle: $(sinfo 2>&1)" >&2
	tail -n 20 "$T/slurmctld.log" "$T/slurmd.log" >&2
	exit 1
fi

cat >"$T/study.yaml" <<EOF
study: slurm-synthetic
direction: maximize
metric: val_acc
trials: 40
workers: 1
sampler: {type: random, seed: 7}
objective: {type: synthetic, epochs: 4, epoch_seconds: 0.5}
heartbeat: {interval: 1s, grace: 4s}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  depth: {type: int, low: 1, high: 8}
EOF
START=$(date +%s.%N)
JOB=$("$BIN" launch slurm "$T/study.yaml" --pg-dir "$T/pg" --workers 4 --out "$T/job.sbatch" \
	--log-dir "$T/logs" --requeue --submit)
echo "test-slurm: submitted job $JOB"
grep -q 'postgres://' "$T/job.sbatch" && { echo "test-slurm: the script holds a DSN" >&2; exit 1; }
[[ $(stat -c %a "$T/job.dsn") == 600 ]] || { echo "test-slurm: DSN file is not 0600" >&2; exit 1; }

psqlq() { psql -X -A -t -q "$("$BIN" db url --pg-dir "$T/pg")" -c "$1"; }
# Cancel task 1 once it has run a few trials.
for i in $(seq 100); do
	n=$(psqlq "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id
	           WHERE s.name = 'slurm-synthetic' AND t.worker_id LIKE '%+slurm:${JOB}\_1/%'")
	[[ $n -ge 2 ]] && break
	sleep 0.2
done
echo "test-slurm: sweep status while running:"
"$BIN" status slurm-synthetic --pg-dir "$T/pg" || true
scancel "${JOB}_1"
echo "test-slurm: scancel ${JOB}_1 after its ${n} trials"

for i in $(seq 600); do
	[[ -z $(squeue -h -j "$JOB" 2>/dev/null) ]] && break
	sleep 0.5
done
END=$(date +%s.%N)
if [[ -n $(squeue -h -j "$JOB") ]]; then
	echo "test-slurm: job still queued after 5 minutes" >&2
	squeue -j "$JOB" >&2
	exit 1
fi
sleep 5 # past the heartbeat grace (4 s)
read -r total distinct running complete failed tagged tasks < <(psqlq "
	SELECT count(*), count(DISTINCT t.number), count(*) FILTER (WHERE t.state = 'RUNNING'),
	       count(*) FILTER (WHERE t.state = 'COMPLETE'), count(*) FILTER (WHERE t.state = 'FAIL'),
	       count(*) FILTER (WHERE t.worker_id LIKE '%+slurm:${JOB}\_%'),
	       count(DISTINCT substring(t.worker_id from '\+slurm:([^/]*)'))
	FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = 'slurm-synthetic'" | tr '|' ' ')
echo "test-slurm: $total trials ($distinct distinct numbers), $complete complete, $failed failed, $running running;" \
	"$tagged ran by tasks of job $JOB ($tasks tasks); $(awk "BEGIN{printf \"%.1f\", $END - $START}") s"
psqlq "SELECT substring(worker_id from '\+slurm:([^/]*)') AS task, count(*), string_agg(DISTINCT state, ',')
       FROM trials GROUP BY 1 ORDER BY 1" | sed 's/^/test-slurm:   task /'
grep -h 'interrupt' "$T"/logs/*_1.out | head -3 | sed 's/^/test-slurm:   task 1: /' || true
fail=0
[[ $total == 40 ]] || { echo "FAIL: $total trials, want 40" >&2; fail=1; }
[[ $distinct == "$total" ]] || { echo "FAIL: duplicate trial numbers" >&2; fail=1; }
[[ $running == 0 ]] || { echo "FAIL: $running trials still RUNNING" >&2; fail=1; }
[[ $tagged == "$total" ]] || { echo "FAIL: $((total - tagged)) trials not run by a task of job $JOB" >&2; fail=1; }
[[ $tasks -ge 2 ]] || { echo "FAIL: trials ran on $tasks task(s)" >&2; fail=1; }
if [[ $fail != 0 ]]; then
	tail -n 30 "$T"/logs/*.out >&2
	exit 1
fi
echo "test-slurm: PASS"
