#!/usr/bin/env bash
# Install the kiosk terminal's Chromium managed policy where Linux Chromium reads it
# (/etc/chromium/policies/managed/). Needs root. The policy allows only the kiosk origin.
#
#   sudo kiosk_profile/install.sh [ORIGIN]      ORIGIN defaults to http://127.0.0.1:5001
#
# KIOSK_POLICY_DIR names another directory (tests; Google Chrome reads
# /etc/opt/chrome/policies/managed instead).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
default_origin="http://127.0.0.1:5001"
origin="${1:-$default_origin}"
origin="${origin%/}"
policy_dir="${KIOSK_POLICY_DIR:-/etc/chromium/policies/managed}"
target="$policy_dir/meguro-kiosk.json"

if ! [[ "$origin" =~ ^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$ ]]; then
  echo "install.sh: ORIGIN must be scheme://host[:port] with no path, e.g. $default_origin (got: $origin)" >&2
  exit 2
fi
if [ -z "${KIOSK_POLICY_DIR:-}" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: writing $policy_dir needs root: run it with sudo" >&2
  exit 1
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# The default origin is the only URL in the file: replace every occurrence.
sed "s#${default_origin}#${origin}#g" "$here/policies.json" > "$tmp"
if command -v python3 >/dev/null; then
  python3 -m json.tool "$tmp" >/dev/null || { echo "install.sh: the policy is not valid JSON" >&2; exit 1; }
fi
mkdir -p "$policy_dir"
install -m 0644 "$tmp" "$target"
echo "Installed $target (allowed origin: $origin). Restart Chromium, then check chrome://policy."
