#!/usr/bin/env bash
# Where the ComfyUI test peer's source is (tests/comfy): $SKETCHDIFFUSE_COMFY_SOURCE when set, else
# shared/comfyui beside this checkout, else beside the checkout this one was cloned from (a fresh clone
# made elsewhere to rehearse CI). Prints the folder; fails with a sentence when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SKETCHDIFFUSE_COMFY_SOURCE:-}" ]; then
  echo "$SKETCHDIFFUSE_COMFY_SOURCE"
  exit 0
fi
for base in .. "$(git config --get remote.origin.url 2>/dev/null || true)/.."; do
  if [ -f "$base/shared/comfyui/main.py" ]; then
    (cd "$base/shared/comfyui" && pwd)
    exit 0
  fi
done
echo "sketchdiffuse: the ComfyUI test peer's source (../shared/comfyui) was not found;" \
  "set SKETCHDIFFUSE_COMFY_SOURCE to its folder" >&2
exit 1
