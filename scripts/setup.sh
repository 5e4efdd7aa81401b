#!/usr/bin/env bash
# Everything beyond `npm ci` that comfy-connector's tests and browser mode need on a fresh machine:
# Debian's Chromium (never a downloaded browser), the real ComfyUI frontend and workflow templates
# from PyPI (the parity oracle and its corpus; not ComfyUI itself), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v /usr/bin/chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  fi
fi
bash scripts/setup-oracle.sh
npm run build --silent
echo "setup: done"
