#!/usr/bin/env bash
# Installs Ferry as a systemd service on an EC2 host (Debian or Ubuntu).
#   sudo deploy/install-ec2.sh [path/to/ferry.yaml] [path/to/ferry.env]
# Builds the release binary (or uses FERRY_BINARY=/path/to/ferry), installs
# the unit, the configuration and the secrets file, then enables and starts
# the service. Run it again to upgrade; state in /var/lib/ferry is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install-ec2.sh: run as root (sudo)" >&2; exit 1; }
config="${1:-deploy/ferry.example.yaml}"
envfile="${2:-}"

if [ -n "${FERRY_BINARY:-}" ]; then
    binary="$FERRY_BINARY"
else
    scripts/build.sh >/dev/null
    binary=.build/release/ferry
fi
apt-get install -y -qq libcurl4 libssl3 zlib1g ca-certificates >/dev/null 2>&1 || true
install -m 0755 "$binary" /usr/local/bin/ferry
install -d -m 0750 /etc/ferry
if [ ! -f /etc/ferry/ferry.yaml ] || [ "$config" != "deploy/ferry.example.yaml" ]; then
    install -m 0640 "$config" /etc/ferry/ferry.yaml
fi
if [ -n "$envfile" ]; then
    install -m 0600 "$envfile" /etc/ferry/ferry.env
fi
install -m 0644 systemd/ferry.service /etc/systemd/system/ferry.service
install -m 0644 systemd/ferry-reverse.service /etc/systemd/system/ferry-reverse.service
install -d /usr/share/doc/ferry && install -m 0644 README.md /usr/share/doc/ferry/README.md
systemd-analyze verify /etc/systemd/system/ferry.service /etc/systemd/system/ferry-reverse.service
systemctl daemon-reload
systemctl enable --now ferry
echo "ferry is running: systemctl status ferry; journalctl -u ferry -f; ferry status --config /etc/ferry/ferry.yaml"
