#!/usr/bin/env bash
# Headless Chromium for tests/browser/: Debian's chromium and a small CJK font (apt), playwright in .venv.
# Idempotent: does nothing when everything is there. Playwright drives /usr/bin/chromium; its own
# browser download (`playwright install`) is never used. Usage: scripts/install_browser.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${1:-.venv/bin/python}"
PLAYWRIGHT_VERSION="1.65.2"              # keep in step with requirements.lock
APT_PACKAGES=(chromium fonts-wqy-microhei)  # the font (1.6 MB) renders Chinese labels; fonts-noto-cjk is 57 MB

if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"
fi

if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('playwright') != '$PLAYWRIGHT_VERSION')" \
        2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION"
fi

echo "browser: $(/usr/bin/chromium --version 2>/dev/null), playwright $PLAYWRIGHT_VERSION"
