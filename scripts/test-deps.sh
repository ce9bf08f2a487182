#!/usr/bin/env bash
# Installs what the browser tests need and pip cannot: Debian's Chromium.
# Playwright's own browser download does not work offline, so the tests launch
# /usr/bin/chromium through executable_path. Without root or apt the browser
# tests skip themselves with a reason.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped"
else
  echo "note: chromium not found and cannot be installed here; browser tests will be skipped"
fi
exit 0
