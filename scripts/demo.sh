#!/usr/bin/env bash
# Ferry's quick start: a whole migration on this machine, in minutes.
#
#   scripts/demo.sh            # 20,000 items
#   FERRY_DEMO_ITEMS=2000 scripts/demo.sh
#
# Installs what is missing, builds Ferry (release), starts moto's server on
# 127.0.0.1 as a stand-in for both sides (the DynamoDB source in us-east-1,
# the "Alternator" target in us-west-2), loads a table, exports it in
# DynamoDB's S3 export layout, runs create-table, backfill --export and
# stream while a writer keeps changing the source, waits for the lag to reach
# zero, and verifies. Exits 0 only when verify says the tables are in sync.
# Stops everything it started, also on Ctrl-C.
#
# FERRY_DEMO_BINARY=path skips the build; FERRY_DEMO_MOTO_URL=url uses a
# running moto instead of starting one (the tests do both).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ITEMS="${FERRY_DEMO_ITEMS:-20000}"
WRITE_SECONDS="${FERRY_DEMO_WRITE_SECONDS:-15}"
WRITE_RATE="${FERRY_DEMO_WRITE_RATE:-60}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")"
PIDS=()
STARTED=$(date +%s)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# wait_caught_up SECONDS: until the status file shows no lag, and every shard
# being read has found nothing new, three seconds running.
wait_caught_up() {
    local lag_zero=0 caught_up
    for _ in $(seq 1 "$1"); do
        caught_up="$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["phase"] == "streaming" and s["lagSeconds"] == 0 and s["shards"] and all(sh.get("caughtUp", True) for sh in s["shards"] if sh["state"] == "reading")
print("yes" if ok else "no")' "$WORK/status.json" 2>/dev/null || echo no)"
        if [ "$caught_up" = "yes" ]; then lag_zero=$((lag_zero + 1)); else lag_zero=0; fi
        [ "$lag_zero" -ge 3 ] && return 0
        sleep 1
    done
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

say "Setting up"
ferry_require_swift
ferry_install_system_packages
ferry_install_moto
if [ -n "${FERRY_DEMO_BINARY:-}" ]; then
    FERRY="$FERRY_DEMO_BINARY"
else
    echo "building ferry (release)…"
    swift build -c release --product ferry >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
    FERRY=.build/release/ferry
fi

if [ -n "${FERRY_DEMO_MOTO_URL:-}" ]; then
    URL="$FERRY_DEMO_MOTO_URL"
else
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
    PIDS+=("$!")
    URL="http://127.0.0.1:$PORT"
    for _ in $(seq 1 150); do curl -fsS -o /dev/null "$URL/moto-api/" 2>/dev/null && break; sleep 0.2; done
fi
TABLE="orders-$(date +%s)"
cat <<EOT
moto's server on $URL stands in for both sides:
  source: DynamoDB table $TABLE in us-east-1, with a stream
  target: table $TABLE in us-west-2 of the same server, standing in for ScyllaDB Alternator.
To point Ferry at a real Alternator, change one line in $WORK/ferry.yaml:
  target: {endpoints: [http://your-scylla-node:8000], ...}
EOT

say "Loading the source table ($ITEMS items, 3 to 100 attributes of every type) and its export"
python3 scripts/demo/demo.py setup "$URL" "$TABLE" "$ITEMS" "$WORK/export" | tee "$WORK/setup.log"
EXPORT="$(tail -n 1 "$WORK/setup.log")"
echo "the export, in DynamoDB's S3 export layout: $EXPORT"

cat >"$WORK/ferry.yaml" <<EOT
source: {table: $TABLE, region: us-east-1, endpoint: "$URL", access_key_id: demo, secret_access_key: demo}
target: {endpoints: ["$URL"], table: $TABLE, region: us-west-2}
stream: {idle_backoff_max_ms: 250}
# moto answers a segmented Scan by reading the whole table each time: few segments.
verify: {segments: 1}
state:
  checkpoint: $WORK/checkpoint.json
  status: $WORK/status.json
  backfill: $WORK/backfill.json
  dead_letter: $WORK/dead-letter.jsonl
EOT

say "ferry create-table"
"$FERRY" create-table --config "$WORK/ferry.yaml"

say "ferry backfill --export"
"$FERRY" backfill --config "$WORK/ferry.yaml" --export "$EXPORT" >"$WORK/backfill.out" 2>"$WORK/backfill.log" \
    || { cat "$WORK/backfill.log"; exit 1; }
cat "$WORK/backfill.out"

say "ferry stream: first the $ITEMS inserts made while the table loaded"
"$FERRY" stream --config "$WORK/ferry.yaml" 2>"$WORK/stream.log" &
STREAM_PID=$!
PIDS+=("$STREAM_PID")
# moto serves both sides from one process: the writer gets its rate once
# Ferry has replayed the load's stream records.
wait_caught_up 600
"$FERRY" status --config "$WORK/ferry.yaml" 2>/dev/null | head -n 4 || true

say "ferry stream, while a writer changes the source for $WRITE_SECONDS s ($WRITE_RATE changes/s: inserts, updates, deletes)"
python3 scripts/demo/demo.py writer "$URL" "$TABLE" "$WRITE_SECONDS" "$ITEMS" "$WRITE_RATE" >"$WORK/writer.json" &
WRITER_PID=$!
PIDS+=("$WRITER_PID")
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep 4
    "$FERRY" status --config "$WORK/ferry.yaml" 2>/dev/null | head -n 4 || true
    echo
done
wait "$WRITER_PID"
echo "writer made: $(cat "$WORK/writer.json")"

say "Waiting for the lag to reach zero"
wait_caught_up 240
"$FERRY" status --config "$WORK/ferry.yaml"
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || { echo "ferry stream exited with $?; log:"; tail -n 20 "$WORK/stream.log"; exit 1; }

say "ferry verify"
set +e
"$FERRY" verify --config "$WORK/ferry.yaml" --report "$WORK/mismatches.jsonl"
VERIFY=$?
set -e

STREAMED="$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["read"])' "$WORK/status.json")"
EVENTS="$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print("inserted %d, modified %d, removed %d" % (t.get("inserted", 0), t.get("modified", 0), t.get("removed", 0)))' "$WORK/status.json")"
say "Summary"
echo "items backfilled:  $(grep -o '[0-9]* items written' "$WORK/backfill.out" | tail -n 1 || echo "?")"
echo "changes streamed:  $STREAMED stream records read"
echo "stream events:     $EVENTS"
echo "final lag:         $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lagSeconds"])' "$WORK/status.json") s"
echo "verify:            $([ "$VERIFY" -eq 0 ] && echo "in sync" || echo "NOT in sync (exit $VERIFY, see $WORK/mismatches.jsonl)")"
echo "time taken:        $(( $(date +%s) - STARTED )) s"
echo "files:             $WORK"
exit "$VERIFY"
