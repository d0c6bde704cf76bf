#!/usr/bin/env bash
# asyncua, the independent OPC UA client (Python) the interoperability test drives:
# `asyncua.sh ensure` makes a Python virtual environment in .cache/asyncua/<version> (ignored by
# git) with the pinned version from the package index pip is configured with, when it is not
# there yet, and prints the path of its `python`. The test reads that path from
# PIPAC_ASYNCUA_PYTHON (scripts/test.sh exports it). Needs Python 3 with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Pinned: asyncua's browse and read helpers change between releases.
VERSION=2.1.0
VENV=.cache/asyncua/$VERSION

case "${1:-}" in
  ensure)
    python="$PWD/$VENV/bin/python"
    if [ ! -x "$python" ] || ! "$python" -c "import asyncua, sys; sys.exit(0 if asyncua.__version__ == '$VERSION' else 1)" 2>/dev/null; then
      echo "installing asyncua $VERSION into $VENV…" >&2
      system=$(command -v python3 || command -v python || true)
      if [ -z "$system" ]; then
        echo "asyncua.sh: Python 3 is needed (with its venv module) to install asyncua" >&2
        exit 69
      fi
      rm -rf "$VENV"
      "$system" -m venv "$VENV" >&2
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "asyncua==$VERSION" >&2
    fi
    echo "$python"
    ;;
  *)
    echo "usage: $0 ensure" >&2
    exit 64
    ;;
esac
