#!/usr/bin/env bash
# `npm run test:image` (.ci/run runs it after `npm test`): builds the OCI image with a local Docker
# daemon and runs test/image/ against it — the image itself, then deploy/compose.yaml with two
# nodes, PostgreSQL and nginx. No image registry is needed: the bases are Debian stand-ins made by
# scripts/image-bases.sh (debootstrap + `docker import`, cached under ~/.cache/porthole-image/).
# Installs Docker, Compose and debootstrap from Debian when run as root; starts dockerd when none
# answers, and stops it again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
# A daemon that does not answer in this long will not: its log says why.
dockerd_start_timeout_seconds=60

# debootstrap, chroot and dockerd need root; say so rather than fail half-way.
if [[ "$(id -u)" -ne 0 ]]; then
  echo "The image test needs root (debootstrap, the test sshd's accounts, and dockerd if none runs): run it with sudo." >&2
  exit 1
fi

# Docker, Compose and debootstrap beside the test suite's own daemons: the terminal's far end is a
# real sshd on this host (test/helpers/sshd.ts). Commands, not paths: Docker may come from
# Docker's own packages rather than Debian's.
bash scripts/ensure-system-deps.sh docker:docker.io dockerd:docker.io docker-compose:docker-compose debootstrap:debootstrap
# npm packages are `npm test`'s to install (CI runs it first); the image installs its own.
if [[ ! -x node_modules/.bin/tsx ]]; then
  echo "node_modules is missing: run \`npm test\` (or \`npm ci\`) first." >&2
  exit 1
fi

dockerd_pid=
stop_dockerd() {
  if [[ -n "$dockerd_pid" ]]; then
    echo "== stopping the dockerd this script started" >&2
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
}
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
  log=${TMPDIR:-/tmp}/porthole-dockerd.log
  echo "== starting dockerd (log: $log)" >&2
  dockerd >"$log" 2>&1 &
  dockerd_pid=$!
  deadline=$((SECONDS + dockerd_start_timeout_seconds))
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$dockerd_pid" 2>/dev/null || ((SECONDS > deadline)); then
      echo "dockerd did not start; the end of its log:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    # Waiting on the daemon's socket: there is no event to wait on from bash.
    sleep 0.2
  done
fi

echo "== base images (debootstrap and docker import, cached)" >&2
bases=$(bash scripts/image-bases.sh)
while IFS='=' read -r name value; do
  export "$name=$value"
done <<<"$bases"

# The build stage reaches the npm registry the way this host does: its registry, and the CA
# certificates this host trusts beyond Debian's own (an intercepting proxy's), as build arguments
# that only the build stage sees (see the Dockerfile).
registry=$(npm config get registry)
image_bundle=$(mktemp)
docker run --rm --entrypoint cat "$PORTHOLE_BUILD_BASE" /etc/ssl/certs/ca-certificates.crt >"$image_bundle"
extra_ca=$(node --import tsx scripts/image-bases/extra-ca.ts \
  "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$image_bundle")
rm -f "$image_bundle"

export PORTHOLE_IMAGE=porthole:test
echo "== docker build $PORTHOLE_IMAGE" >&2
build_started=$(date +%s)
# The classic builder: the stand-in daemon (Debian's 20.10) and CI have no buildx.
DOCKER_BUILDKIT=0 docker build --quiet \
  --build-arg "BASE_IMAGE=$PORTHOLE_RUNTIME_BASE" \
  --build-arg "BUILD_IMAGE=$PORTHOLE_BUILD_BASE" \
  --build-arg "NPM_REGISTRY=$registry" \
  --build-arg "BUILD_CA_CERTS=$extra_ca" \
  --tag "$PORTHOLE_IMAGE" . >/dev/null
echo "   built in $(($(date +%s) - build_started)) s" >&2

echo "== test/image" >&2
status=0
node --import tsx --test --test-reporter=spec --test-timeout=600000 test/image/*.test.ts || status=$?
if [[ -f test-results/image.json ]]; then
  echo "== measurements (docs/benchmarks.md, \"Container image\")" >&2
  cat test-results/image.json >&2
fi
echo "== test:image took $(($(date +%s) - started)) s" >&2
exit "$status"
