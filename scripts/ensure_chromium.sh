#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium: the report test opens the demo's page in
# it (headless, through Playwright, so no browser download). Installs it only when absent.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing chromium from Debian packages (for the report test)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "chromium is not installed" >&2; exit 1; }
