#!/usr/bin/env bash
# Renders report.html in headless Chromium and checks that the stories, the
# side-by-side view and the passage highlights render; saves a screenshot.
#
#   tests/browser/report.sh [OUT_DIR]     default: target/browser
#
# Installs Debian's chromium and chromium-driver when chromium is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/browser}
mkdir -p "$out"
out=$(cd "$out" && pwd)   # file:// URLs need an absolute path

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi

(cd "$root" && cargo build --release --quiet)
"$root/target/release/wiretrace" scan "$root/fixtures/seeds" "$root/fixtures/relations/corpus.jsonl" \
  --out "$out/report" --quiet >/dev/null

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile")
url="file://$out/report/report.html#open-first"

chromium "${flags[@]}" --dump-dom "$url" 2>/dev/null > "$out/dom.html"
count() { { grep -o "$1" "$out/dom.html" || true; } | wc -l; }
stories=$(count '<details class="story"')
marks=$(count '<mark class="\(verbatim\|edited\|reworded\)"')
sides=$(count '<div class="side">')
echo "rendered: $stories stories, $sides side-by-side view(s), $marks highlighted passages"
fail=0
[ "$stories" -ge 3 ] || { echo "FAIL: expected 3 stories in the rendered page"; fail=1; }
[ "$sides" -ge 1 ] || { echo "FAIL: the first story's side-by-side view did not render"; fail=1; }
[ "$marks" -ge 2 ] || { echo "FAIL: no highlighted passages on both sides"; fail=1; }
grep -q 'No Ukraine breakthrough' "$out/dom.html" || { echo "FAIL: story title missing"; fail=1; }

chromium "${flags[@]}" --window-size=1400,1100 --screenshot="$out/report.png" "$url" 2>/dev/null >/dev/null
[ -s "$out/report.png" ] || { echo "FAIL: no screenshot"; fail=1; }
echo "screenshot: $out/report.png"
[ "$fail" -eq 0 ] && echo "1 passed, 0 failed" || { echo "0 passed, 1 failed"; exit 1; }
