#!/usr/bin/env bash
# Fuzz smoke run for CI: every target, a few seconds each, from the committed seeds.
#   fuzz/smoke.sh [SECONDS]   (default 15)
set -euo pipefail
cd "$(dirname "$0")"
exec ./campaign.sh -t "${1:-15}" -j 1
