#!/usr/bin/env bash
# Install what the browser tests drive: Debian's Chromium (Playwright's own browser
# download is not used) and fonts for Arabic and Chinese, unless they are there already.
set -euo pipefail
if command -v chromium >/dev/null && fc-list :lang=zh | grep -q . && fc-list :lang=ar | grep -q .; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-core >/dev/null
