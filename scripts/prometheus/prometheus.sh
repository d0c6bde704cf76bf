#!/usr/bin/env bash
# Prometheus for the tests: `prometheus.sh ensure` installs the distribution's package when the
# binaries are missing and prints the directory that holds `prometheus` and `promtool`. The
# tests start their own server (scripts the cell's port into its configuration), so nothing
# runs here. The package's own service is not started: a container has no init to start it.
set -euo pipefail

case "${1:-}" in
  ensure)
    if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
      echo "installing Prometheus from the distribution's packages…" >&2
      sudo_=""
      [ "$(id -u)" -ne 0 ] && sudo_="sudo"
      export DEBIAN_FRONTEND=noninteractive
      $sudo_ apt-get update -qq >&2
      # policy-rc.d 101: do not start the package's daemon on install (one we put there, only).
      own_policy=false
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo_ tee /usr/sbin/policy-rc.d >/dev/null
        $sudo_ chmod +x /usr/sbin/policy-rc.d
        own_policy=true
      fi
      $sudo_ apt-get install -y -qq --no-install-recommends prometheus >&2
      if $own_policy; then $sudo_ rm -f /usr/sbin/policy-rc.d; fi
    fi
    dirname "$(command -v prometheus)"
    ;;
  *)
    echo "usage: $0 ensure" >&2
    exit 64
    ;;
esac
