#!/usr/bin/env bash
# The ComfyUI test peer's own virtual environment (tests/comfy): its requirements.txt without the two
# web-interface packages the server does not need to run, plus requests. torch, torchvision and torchaudio
# are pinned to a set that installs together from PyPI (and from this workplace's local disk on x86_64);
# this is the test peer's environment only: sketchdiffuse itself pins no torch.
set -euo pipefail
venv=${1:-.comfy-venv}
source_dir=${2:-../shared/comfyui}
python=${PYTHON:-python3}
test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet torch==2.9.1 torchvision==0.24.1
"$venv/bin/pip" install --quiet torch==2.9.1 "torchaudio==2.9.*"
grep -v -E '^(comfyui-workflow-templates|comfyui-embedded-docs|torch|torchvision|torchaudio)([=<> ~]|$)' \
  "$source_dir/requirements.txt" > "$venv/requirements-peer.txt"
"$venv/bin/pip" install --quiet -r "$venv/requirements-peer.txt" requests
touch "$venv/.installed"
