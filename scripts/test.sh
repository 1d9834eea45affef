#!/usr/bin/env bash
# Ferry's test command: installs what a fresh Debian machine lacks, starts
# moto's server on 127.0.0.1 (one plain, one verifying SigV4 signatures),
# runs `swift test`, and stops the servers by PID whatever happens.
#
#   scripts/test.sh [extra swift test arguments, e.g. --filter SigV4]
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$STATE_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_moto NAME [VAR=VALUE...]: starts a server, records its PID and sets
# MOTO_STARTED_URL (no command substitution: a subshell would lose the PID).
start_moto() {
    local name="$1"; shift
    local port
    port="$(free_port)"
    env "$@" python3 -m moto.server -H 127.0.0.1 -p "$port" >"$STATE_DIR/$name.log" 2>&1 &
    PIDS+=("$!")
    MOTO_STARTED_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 150); do
        curl -fsS -o /dev/null "$MOTO_STARTED_URL/moto-api/" 2>/dev/null && return 0
        sleep 0.2
    done
    ferry_log "moto server '$name' did not answer on $MOTO_STARTED_URL; its log:"
    cat "$STATE_DIR/$name.log" >&2
    return 1
}

ferry_require_swift
ferry_install_system_packages
ferry_install_moto

start_moto plain
MOTO_URL="$MOTO_STARTED_URL"
# With INITIAL_NO_AUTH_ACTION_COUNT moto lets the first N unsigned calls
# through (the tests use them to create an IAM user and key), then checks
# every request's SigV4 signature against the keys it knows.
start_moto auth INITIAL_NO_AUTH_ACTION_COUNT=3
MOTO_AUTH_URL="$MOTO_STARTED_URL"
ferry_log "moto on $MOTO_URL, with signature verification on $MOTO_AUTH_URL"

export FERRY_MOTO_ENDPOINT="$MOTO_URL"
export FERRY_MOTO_AUTH_ENDPOINT="$MOTO_AUTH_URL"
# The tests run the ferry binary too, so build every product first.
swift build
swift test --disable-swift-testing "$@"
