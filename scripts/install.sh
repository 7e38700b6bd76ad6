#!/usr/bin/env bash
# Installs what Hotline needs on Debian 12 / Ubuntu 24.04 (as root): apt packages, a virtualenv
# with the project in it. Idempotent: a second run checks and returns in seconds.
#   scripts/install.sh          # what the hotline needs to run
#   scripts/install.sh --test   # plus what the test suite needs (PostgreSQL, linters)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$(id -u)" != 0 ]; then
    echo "hotline: run this as root (it installs packages and builds the Asterisk sandbox)" >&2
    exit 1
fi

packages=(python3 python3-venv python3-dev gcc debootstrap debian-archive-keyring sip-tester
          espeak-ng sox redis-server procps iproute2 ca-certificates)
# Browser tests of the desk and wallboard: Debian's Chromium and a CJK font for the pages.
[ "$want_test" = 1 ] && packages+=(postgresql postgresql-client chromium fonts-wqy-microhei)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "hotline: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${HOTLINE_PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "hotline: Python 3.11 or newer is needed ($("$python" --version 2>&1)); set HOTLINE_PYTHON" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

extras=""
[ "$want_test" = 1 ] && extras="[test]"
stamp=".venv/.hotline-installed${extras:+-test}"
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    echo "hotline: installing Python packages into .venv"
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -e ".${extras}"
    echo "$digest" > "$stamp"
fi
