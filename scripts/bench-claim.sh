#!/usr/bin/env bash
# bench-claim: a pgbench load test of the claim statement alone (the one
# that takes the next trial number and inserts the RUNNING trial, as
# sweep/postgres newRunning runs it, after the WAITING check), on a
# throwaway private cluster: one study shared by every client (the study
# row lock serialises them), at CLIENTS concurrency levels for SECS each.
# docs/scale.md quotes its output.
set -euo pipefail
BIN=$(realpath "${BIN:-bin/sweep}")
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-"1 4 16 64"}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
T=$(mktemp -d /tmp/sweep-bench-claim-XXXXXX)
chmod 755 "$T"
trap '"$BIN" db down --pg-dir "$T/pg" >/dev/null 2>&1; rm -rf "$T"' EXIT
cat >"$T/s.yaml" <<YAML
study: bench-claim
direction: maximize
metric: val_acc
trials: 1
workers: 1
sampler: {type: random, seed: 1}
objective: {type: synthetic, epochs: 1}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
YAML
"$BIN" start "$T/s.yaml" --pg-dir "$T/pg" >/dev/null 2>&1
URL=$("$BIN" db url --pg-dir "$T/pg")
psql -X -q "$URL" -c "UPDATE studies SET trial_budget = NULL WHERE name = 'bench-claim'"
ID=$(psql -X -A -t "$URL" -c "SELECT id FROM studies WHERE name = 'bench-claim'")
cat >"$T/claim.sql" <<SQL
\set w random(1, 1000)
WITH w AS (UPDATE study_workers SET last_seen = now(), host = 'h' WHERE study_id = $ID AND worker_id = 'w' || :w)
UPDATE trials SET state = 'RUNNING', worker_id = 'w' || :w, host = 'h', started_at = now(), heartbeat_at = now()
WHERE id = (SELECT id FROM trials WHERE study_id = $ID AND state = 'WAITING' ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, number, attempt, retry_of;
WITH n AS (UPDATE studies SET next_number = next_number + 1 WHERE id = $ID AND (trial_budget IS NULL OR next_number < trial_budget)
           RETURNING next_number - 1 AS number),
     w AS (UPDATE study_workers SET last_seen = now(), host = 'h' WHERE study_id = $ID AND worker_id = 'w' || :w)
INSERT INTO trials (study_id, number, state, worker_id, host, started_at, heartbeat_at)
SELECT $ID, number, 'RUNNING', 'w' || :w, 'h', now(), now() FROM n RETURNING id, number;
SQL
echo "clients  claims/s  mean-ms  (pgbench -n -T $SECS, $(nproc) cores, PostgreSQL $("$PGBIN"/postgres --version | awk '{print $3}'))"
for c in $CLIENTS; do
	out=$("$PGBIN"/pgbench -n -T "$SECS" -c "$c" -j "$(( c < 4 ? c : 4 ))" -f "$T/claim.sql" "$URL" 2>&1)
	tps=$(awk '/^tps/ {print $3; exit}' <<<"$out")
	lat=$(awk '/latency average/ {print $4}' <<<"$out")
	printf '%7d  %8.0f  %7s\n' "$c" "$tps" "$lat"
done
n=$(psql -X -A -t "$URL" -c "SELECT count(*), pg_size_pretty(pg_total_relation_size('trials')) FROM trials")
echo "trials rows and table size after the run: $n"
