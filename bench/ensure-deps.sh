#!/usr/bin/env bash
# What `npm run bench` needs beyond the test suite's daemons: Debian's websockify, the peer bridge
# the VNC case compares the gateway with. Silent when present; installs it when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh

if [[ -x /usr/bin/websockify ]]; then
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
  echo "The VNC bench needs websockify: sudo apt-get install -y --no-install-recommends websockify" >&2
  exit 1
fi
echo "Installing websockify for the VNC bench" >&2
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends websockify
