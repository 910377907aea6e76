#!/usr/bin/env bash
# Makes sure the real daemons and browser the integration/e2e tests drive are
# installed (Debian 12). Silent when everything is present; safe to re-run.
# Arguments add more "path:package" entries for a caller that needs more (the bench, the image
# test); they are installed, or named in the printed command, with the rest. A bare command name
# instead of a path is looked up on PATH, for tools another package may provide (Docker's own).
set -euo pipefail

# Each required path and the Debian package that provides it.
required=(
  "/usr/sbin/sshd:openssh-server"
  "/usr/bin/ssh:openssh-client"
  "/usr/bin/ssh-keygen:openssh-client"
  "/usr/bin/ssh-keyscan:openssh-client"
  "/usr/bin/Xvnc:tigervnc-standalone-server"
  "/usr/bin/vncpasswd:tigervnc-tools"
  "/usr/bin/chromium:chromium"
  "/usr/bin/xterm:xterm"
  "/usr/bin/xsetroot:x11-xserver-utils"
  "/usr/bin/xwininfo:x11-utils"
  "/usr/bin/xdotool:xdotool"
  # The screen's keys and clipboard as the VM sees them (test/e2e/screen-keys.test.ts).
  "/usr/bin/xev:x11-utils"
  "/usr/bin/xclip:xclip"
  "/usr/bin/setxkbmap:x11-xkb-utils"
  "/usr/share/X11/xkb/symbols/de:xkb-data"
  # The scale-out tests run a throwaway cluster with initdb and pg_ctl (test/helpers/postgres.ts).
  "/usr/lib/postgresql/15/bin/initdb:postgresql"
  "/usr/lib/postgresql/15/bin/pg_ctl:postgresql"
  # The core "fixed" font xterm draws with. xfonts-base is only a Recommends of
  # tigervnc-standalone-server, so --no-install-recommends would skip it.
  "/usr/share/fonts/X11/misc/6x13-ISO8859-1.pcf.gz:xfonts-base"
  "$@"
)

missing_packages=()
for entry in "${required[@]}"; do
  file="${entry%%:*}"
  package="${entry#*:}"
  if [[ "$file" == /* ]]; then
    [[ -e "$file" ]] || missing_packages+=("$package")
  else
    command -v "$file" >/dev/null 2>&1 || missing_packages+=("$package")
  fi
done

if [[ ${#missing_packages[@]} -eq 0 ]]; then
  exit 0
fi

# De-duplicate while keeping order, so the printed command is tidy.
declare -A seen=()
packages=()
for package in "${missing_packages[@]}"; do
  if [[ -z "${seen[$package]:-}" ]]; then
    seen[$package]=1
    packages+=("$package")
  fi
done

if [[ "$(id -u)" -ne 0 ]]; then
  {
    echo "Missing system packages for the Porthole tests: ${packages[*]}"
    echo "Install them with:"
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages[*]}"
  } >&2
  exit 1
fi

echo "Installing missing system packages: ${packages[*]}" >&2
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
