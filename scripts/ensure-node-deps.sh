#!/usr/bin/env bash
# Installs the npm packages from package-lock.json when node_modules is missing or stale.
# Silent when up to date; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

required_major=20
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if (( node_major < required_major )); then
  echo "Porthole needs Node.js ${required_major} or newer (found $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

stamp=node_modules/.porthole-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "Installing npm packages (npm ci)…" >&2
npm ci --no-audit --no-fund
echo "$want" > "$stamp"
