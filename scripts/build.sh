#!/usr/bin/env bash
# Installs Ferry's build dependencies, builds the release binary and shows
# its commands. The binary is .build/release/ferry.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ferry_require_swift
ferry_install_system_packages
swift build -c release --product ferry
.build/release/ferry --help
