#!/usr/bin/env bash
# Sets up and starts the whole hotline on this machine (as root): SQLite under var/, a local
# Redis if none is running, Asterisk 22 (system or the Debian sid sandbox), the FastAGI server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/hotline up
