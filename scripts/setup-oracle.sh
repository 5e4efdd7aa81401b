#!/usr/bin/env bash
# Installs what the browser oracle needs, without ComfyUI itself:
#   - the real ComfyUI frontend (its static folder is served by the stand-in via --front-end-root),
#     1.48.7 (what ComfyUI v0.33.0 pins) into .cache/py and 1.58.1 (the newest on PyPI) into
#     .cache/py-1.58.1, so parity is proved against both,
#   - the workflow templates that make up most of the parity corpus.
# With `pip install --target`, so nothing touches the system's site-packages.
# Idempotent: when the pinned versions are already there, it returns at once.
#
# Chromium itself is Debian's (`apt-get install -y chromium`, /usr/bin/chromium); this script only
# checks for it and says so, because installing system packages is the CI's job, not ours.
set -euo pipefail

FRONTEND_VERSION=1.48.7
# Further frontends, each in its own folder ($target-<version>): parity is checked per version.
EXTRA_FRONTEND_VERSIONS="1.58.1"
TEMPLATES_VERSION=0.11.41
# The templates meta-package pins its parts; only core (the manifest) and json (the workflows) are
# needed for conversion, the media packages (~400 MB of preview images) are not.
TEMPLATES_CORE_VERSION=0.3.312
TEMPLATES_JSON_VERSION=0.1.47

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${ORACLE_PY_TARGET:-$root/.cache/py}"
python="${PYTHON:-$(command -v python3 || command -v python || true)}"

have() { # have DIST VERSION: the dist-info of that exact version is in the target
  [ -d "$target/$1-$2.dist-info" ]
}

if have comfyui_frontend_package "$FRONTEND_VERSION" \
  && have comfyui_workflow_templates "$TEMPLATES_VERSION" \
  && have comfyui_workflow_templates_core "$TEMPLATES_CORE_VERSION" \
  && have comfyui_workflow_templates_json "$TEMPLATES_JSON_VERSION" \
  && [ -f "$target/comfyui_frontend_package/static/index.html" ]; then
  echo "setup-oracle: frontend $FRONTEND_VERSION and templates $TEMPLATES_VERSION already in $target"
else
  if [ -z "$python" ]; then
    echo "setup-oracle: no python3 found; install Python 3 with pip, or set PYTHON" >&2
    exit 1
  fi
  mkdir -p "$target"
  echo "setup-oracle: installing into $target with $python"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$target" \
    "comfyui-frontend-package==$FRONTEND_VERSION" \
    "comfyui-workflow-templates==$TEMPLATES_VERSION" \
    "comfyui-workflow-templates-core==$TEMPLATES_CORE_VERSION" \
    "comfyui-workflow-templates-json==$TEMPLATES_JSON_VERSION"
  if [ ! -f "$target/comfyui_frontend_package/static/index.html" ]; then
    echo "setup-oracle: the frontend's static folder is missing after install ($target/comfyui_frontend_package/static)" >&2
    exit 1
  fi
fi

for version in $EXTRA_FRONTEND_VERSIONS; do
  extra="$target-$version"
  if [ -d "$extra/comfyui_frontend_package-$version.dist-info" ] \
    && [ -f "$extra/comfyui_frontend_package/static/index.html" ]; then
    echo "setup-oracle: frontend $version already in $extra"
    continue
  fi
  if [ -z "$python" ]; then
    echo "setup-oracle: no python3 found; install Python 3 with pip, or set PYTHON" >&2
    exit 1
  fi
  mkdir -p "$extra"
  echo "setup-oracle: installing frontend $version into $extra"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$extra" \
    "comfyui-frontend-package==$version"
  if [ ! -f "$extra/comfyui_frontend_package/static/index.html" ]; then
    echo "setup-oracle: the frontend's static folder is missing after install ($extra/comfyui_frontend_package/static)" >&2
    exit 1
  fi
done

browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "setup-oracle: chromium at $browser"
else
  echo "setup-oracle: no chromium at $browser: the parity suite will skip (apt-get install -y chromium)"
fi
