#!/usr/bin/env bash
# Remove the kiosk terminal's Chromium managed policy (needs root). Restart Chromium after.
set -euo pipefail
policy_dir="${KIOSK_POLICY_DIR:-/etc/chromium/policies/managed}"
target="$policy_dir/meguro-kiosk.json"
if [ -z "${KIOSK_POLICY_DIR:-}" ] && [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: changing $policy_dir needs root: run it with sudo" >&2
  exit 1
fi
if [ -e "$target" ]; then
  rm -f "$target"
  echo "Removed $target. Restart Chromium."
else
  echo "No kiosk policy at $target: nothing to remove."
fi
