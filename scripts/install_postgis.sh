#!/usr/bin/env bash
# PostgreSQL 15 with PostGIS 3 for the PostGIS store tests (apt). Idempotent: does nothing when installed.
# The tests never use the packaged "main" cluster: tests/postgis_cluster.py runs a throwaway cluster of its
# own (initdb + pg_ctl as the postgres user, on a temporary socket directory) and removes it afterwards.
set -euo pipefail

APT_PACKAGES=(postgresql-15 postgresql-15-postgis-3)
PG_BIN=/usr/lib/postgresql/15/bin

if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1 || [ ! -x "$PG_BIN/initdb" ] \
        || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    # keep the package from starting its "main" cluster: the tests run their own and nothing may be left running
    POLICY=/usr/sbin/policy-rc.d
    ADDED_POLICY=""
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY" && ADDED_POLICY=1
    fi
    trap '[ -n "$ADDED_POLICY" ] && $SUDO rm -f "$POLICY"' EXIT
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"
fi

echo "postgis: $("$PG_BIN/postgres" --version), PostGIS $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" /usr/share/postgresql/15/extension/postgis.control)"
