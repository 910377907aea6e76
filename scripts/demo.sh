#!/usr/bin/env bash
# README Quick start, first command: a local demo with a real sshd "VM", a real Xvnc desktop,
# the gateway on embedded SQLite and seeded users. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
# The build's chatter (a bundler's timing notes on a busy machine) would push the banner away;
# it is shown only when the build fails.
echo 'Building the gateway and its pages…'
if ! build_output=$(npm run --silent build 2>&1); then
  printf '%s\n' "$build_output" >&2
  exit 1
fi
exec node --import tsx scripts/demo.ts
