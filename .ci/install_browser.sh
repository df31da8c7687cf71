#!/usr/bin/env bash
# Install Debian's Chromium for the Playwright browser tests (tests/test_ui_browser.py).
#
# Why Debian's build rather than `playwright install`: no browser CDN is
# reachable, while the Debian archive is; Playwright drives any recent
# Chromium through executable_path=/usr/bin/chromium. fonts-dejavu-core gives
# headless screenshots readable glyphs. Idempotent: does nothing when
# /usr/bin/chromium already exists. Uses sudo only when not already root.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
/usr/bin/chromium --version
