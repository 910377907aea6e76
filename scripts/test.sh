#!/usr/bin/env bash
# The one test command (README Quick start, .ci/run): installs what it needs, then lint,
# typecheck, build, and every test — unit, integration against real sshd/Xvnc, the security
# suite (attacks on the gateway, docs/security.md), e2e in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh

# Lint runs beside the typecheck and the build (each mostly one core), and must pass all the same.
echo "== lint, typecheck, build" >&2
npx eslint . --max-warnings=0 &
lint=$!
npx tsc -b
npm run --silent build >/dev/null
wait "$lint"

echo "== tests" >&2
# Files run two at a time: enough to use both cores, few enough that real daemons start promptly.
# The timeout only catches a hung test: the 20,000-connection attack alone takes ~2 min beside
# another file, and tests that measure time assert their own bounds.
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 --test-timeout=300000 \
  test/unit/*.test.ts test/integration/*.test.ts test/security/*.test.ts test/e2e/*.test.ts
