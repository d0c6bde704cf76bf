#!/usr/bin/env bash
# asyncua, the independent OPC UA client (Python) the interoperability test drives:
# `asyncua.sh ensure` installs the pinned version into .cache/asyncua/<version> once
# (scripts/python/pinned-venv.sh) and prints the path of its `python`. The test reads that path
# from PIPAC_ASYNCUA_PYTHON (scripts/test.sh exports it).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/python/pinned-venv.sh

# Pinned: asyncua's browse and read helpers change between releases.
VERSION=2.1.0

case "${1:-}" in
  ensure)
    venv=$(pinned_venv asyncua asyncua "$VERSION")
    echo "$venv/bin/python"
    ;;
  *)
    echo "usage: $0 ensure" >&2
    exit 64
    ;;
esac
