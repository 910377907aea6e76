#!/usr/bin/env bash
# README Quick start, first command: a local demo with a real sshd "VM", a real Xvnc desktop,
# the gateway on embedded SQLite and seeded users. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
npm run --silent build >/dev/null
exec node --import tsx scripts/demo.ts
