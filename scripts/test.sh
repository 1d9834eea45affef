#!/usr/bin/env bash
# Ferry's test command: installs what a fresh Debian machine lacks, starts
# moto's server on 127.0.0.1 (one plain, one verifying SigV4 signatures),
# runs `swift test`, and stops the servers by PID whatever happens.
#
#   scripts/test.sh [extra swift test arguments, e.g. --filter SigV4]
set -euo pipefail

cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.1"
APT_PACKAGES=(libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config python3 python3-pip curl)
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")"
PIDS=()

log() { printf 'test.sh: %s\n' "$*" >&2; }

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

install_system_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

install_moto() {
    local have
    have="$(python3 -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)"
    if [ "$have" != "$MOTO_VERSION" ] || ! python3 -c 'import flask, flask_cors' 2>/dev/null; then
        log "installing moto[server]==$MOTO_VERSION"
        python3 -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "moto[server]==$MOTO_VERSION"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_moto NAME [VAR=VALUE...]: starts a server, records its PID, prints its URL.
start_moto() {
    local name="$1"; shift
    local port
    port="$(free_port)"
    env "$@" python3 -m moto.server -H 127.0.0.1 -p "$port" >"$STATE_DIR/$name.log" 2>&1 &
    PIDS+=("$!")
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$url/moto-api/" 2>/dev/null; then
            echo "$url"
            return 0
        fi
        sleep 0.2
    done
    log "moto server '$name' did not answer on $url; its log:"
    cat "$STATE_DIR/$name.log" >&2
    return 1
}

install_system_packages
install_moto

MOTO_URL="$(start_moto plain)"
# With INITIAL_NO_AUTH_ACTION_COUNT moto lets the first N unsigned calls
# through (the tests use them to create an IAM user and key), then checks
# every request's SigV4 signature against the keys it knows.
MOTO_AUTH_URL="$(start_moto auth INITIAL_NO_AUTH_ACTION_COUNT=4)"
log "moto on $MOTO_URL, with signature verification on $MOTO_AUTH_URL"

export FERRY_MOTO_ENDPOINT="$MOTO_URL"
export FERRY_MOTO_AUTH_ENDPOINT="$MOTO_AUTH_URL"
swift test "$@"
