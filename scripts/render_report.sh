#!/usr/bin/env bash
# Render an HTML report to a PNG screenshot with headless Chromium, to check it by eye.
#
# Usage: scripts/render_report.sh REPORT.html [SCREENSHOT.png]
# Needs /usr/bin/chromium, or $CHROMIUM (Debian/Ubuntu: apt-get install -y chromium). The report is
# self-contained, so Chromium is run with networking off and a throwaway profile.
set -euo pipefail
html=${1:?usage: scripts/render_report.sh REPORT.html [SCREENSHOT.png]}
png=${2:-${html%.html}.png}
chromium=${CHROMIUM:-/usr/bin/chromium}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --no-first-run --user-data-dir="$profile" --window-size=1200,2000 \
  --screenshot="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")" \
  "file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")" >/dev/null 2>&1
test -s "$png"
echo "$png"
