#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (tests/SessionMesh.Tests/Dashboard), which drive
# /usr/bin/chromium through Playwright; Playwright never downloads a browser of its own. Run by test.sh when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium > /dev/null
/usr/bin/chromium --version
