# Shared by Ferry's scripts: install what a fresh Debian machine lacks.
# shellcheck shell=bash

FERRY_APT_PACKAGES=(libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config python3 python3-pip curl)
FERRY_MOTO_VERSION="5.2.1"

ferry_log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

ferry_install_system_packages() {
    local missing=() pkg
    for pkg in "${FERRY_APT_PACKAGES[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    ferry_log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ferry_install_moto() {
    local have
    have="$(python3 -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)"
    if [ "$have" = "$FERRY_MOTO_VERSION" ] && python3 -c 'import flask, flask_cors' 2>/dev/null; then
        return 0
    fi
    ferry_log "installing moto[server]==$FERRY_MOTO_VERSION"
    python3 -m pip install --quiet --disable-pip-version-check "moto[server]==$FERRY_MOTO_VERSION" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
            "moto[server]==$FERRY_MOTO_VERSION"
}

ferry_require_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    ferry_log "swift is not on PATH: install a Swift 6 toolchain (swift.org) and run again"
    return 1
}
