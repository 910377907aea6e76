#!/usr/bin/env bash
# What `npm run bench` needs beyond the test suite's daemons: Debian's websockify, the peer bridge
# the VNC cases compare the gateway with. Silent when present; installs it when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh "/usr/bin/websockify:websockify"
