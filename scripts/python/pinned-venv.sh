#!/usr/bin/env bash
# Sourced by the scripts that install a pinned Python tool for the tests (scripts/asyncua,
# scripts/schemathesis): `pinned_venv <name> <package> <version>` makes a virtual environment in
# .cache/<name>/<version> (ignored by git) with `<package>==<version>` from the package index pip
# is configured with, once, and prints the venv's folder. A venv is complete only once its
# marker is written, so an interrupted install is redone. Needs Python 3 with venv and pip.

pinned_venv() {
  local name=$1 package=$2 version=$3
  local venv=.cache/$name/$version
  local marker=$venv/.installed-$package-$version
  if [ ! -f "$marker" ] || [ ! -x "$venv/bin/python" ]; then
    echo "installing $package $version into $venv…" >&2
    local system
    system=$(command -v python3 || command -v python || true)
    if [ -z "$system" ]; then
      echo "$name: Python 3 is needed (with its venv module) to install $package" >&2
      exit 69
    fi
    rm -rf "$venv"
    "$system" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$version" >&2
    touch "$marker"
  fi
  echo "$PWD/$venv"
}
