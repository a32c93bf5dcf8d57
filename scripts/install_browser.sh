#!/usr/bin/env bash
# Headless Chromium for tests/browser/ and bench/: Debian's chromium and a small CJK font (apt).
# Idempotent: does nothing when everything is there. Playwright (pinned in requirements.lock) drives
# /usr/bin/chromium; its own browser download (`playwright install`) is never used.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium fonts-wqy-microhei)  # the font (1.6 MB) renders Chinese labels; fonts-noto-cjk is 57 MB

if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"
fi

echo "browser: $(/usr/bin/chromium --version 2>/dev/null)"
