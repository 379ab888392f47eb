#!/usr/bin/env bash
# Install (as root) or name (otherwise) the Debian packages a target needs.
# Usage: scripts/system-deps.sh PACKAGE[:COMMAND_OR_PATH] ...
set -euo pipefail
missing=()
for spec in "$@"; do
    pkg="${spec%%:*}"
    probe="${spec#*:}"
    [ "$probe" = "$spec" ] && probe=""
    if [ -n "$probe" ]; then
        if [[ "$probe" == /* ]]; then [ -e "$probe" ] && continue
        else command -v "$probe" >/dev/null 2>&1 && continue; fi
    else
        dpkg -s "$pkg" >/dev/null 2>&1 && continue
    fi
    missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
