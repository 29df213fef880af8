#!/usr/bin/env bash
# Start Chromium full screen on the kiosk's top page (run it from the terminal's session
# autostart). The managed policy (install.sh) does the locking down; these flags only set
# the kiosk window up.
#
#   kiosk_profile/launch-kiosk.sh [ORIGIN]      ORIGIN defaults to KIOSK_BASE_URL or http://127.0.0.1:5001
set -euo pipefail
origin="${1:-${KIOSK_BASE_URL:-http://127.0.0.1:5001}}"
origin="${origin%/}"
chromium="${CHROMIUM:-chromium}"
exec "$chromium" \
  --kiosk \
  --no-first-run \
  --noerrdialogs \
  --disable-session-crashed-bubble \
  --disable-features=Translate \
  --password-store=basic \
  "$origin/"
