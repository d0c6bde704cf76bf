#!/usr/bin/env bash
# Schemathesis, the OpenAPI fuzzer the gateway's API test runs: `schemathesis.sh ensure` makes a
# Python virtual environment in .cache/schemathesis (ignored by git) with the pinned version from
# the package index pip is configured with, when it is not there yet, and prints the path of the
# `schemathesis` binary. Needs Python 3 with venv and pip. Nothing is started here.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Pinned: the 3.x and 4.x command lines differ, and new releases add checks and generators.
VERSION=4.32.5
VENV=.cache/schemathesis/$VERSION

case "${1:-}" in
  ensure)
    bin="$PWD/$VENV/bin/schemathesis"
    if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qF "$VERSION"; then
      echo "installing schemathesis $VERSION into $VENV…" >&2
      python=$(command -v python3 || command -v python || true)
      if [ -z "$python" ]; then
        echo "schemathesis.sh: Python 3 is needed (with its venv module) to install schemathesis" >&2
        exit 69
      fi
      rm -rf "$VENV"
      "$python" -m venv "$VENV" >&2
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
    fi
    echo "$bin"
    ;;
  *)
    echo "usage: $0 ensure" >&2
    exit 64
    ;;
esac
