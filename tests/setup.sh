#!/usr/bin/env bash
# Install what the test suite needs from Debian, unless it is there already:
# - Chromium (Playwright's own browser download is not used) and fonts for Arabic and
#   Chinese, for the browser tests;
# - PostgreSQL's server programs, for the run against PostgreSQL
#   (HUB_TEST_DATABASE=postgresql); the tests start and stop a throw-away cluster
#   themselves, so the package's own service is left alone;
# - poppler-utils (pdftotext) and antiword, the independent readers that the
#   extraction of real files is compared with (tests/references.py). The hub itself
#   needs neither;
# - Tesseract with the language packs of the six UN languages, for OCR of scanned pages
#   (tests/test_ocr.py); the hub runs without it, its scans waiting for OCR.
set -euo pipefail
packages=()
if ! command -v pdftotext >/dev/null; then packages+=(poppler-utils); fi
if ! command -v antiword >/dev/null; then packages+=(antiword); fi
if ! command -v tesseract >/dev/null; then packages+=(tesseract-ocr); fi
for pack in ara chi_sim eng fra rus spa; do
  if ! tesseract --list-langs 2>/dev/null | grep -qx "$pack"; then
    packages+=("tesseract-ocr-${pack//_/-}")
  fi
done
if ! command -v chromium >/dev/null; then packages+=(chromium); fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then packages+=(fonts-noto-cjk); fi
if ! fc-list :lang=ar 2>/dev/null | grep -q .; then packages+=(fonts-noto-core); fi
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  packages+=(postgresql)
fi
if [ "${#packages[@]}" = 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
