#!/usr/bin/env bash
# Adversarial inputs (issue #6): time and memory must stay near linear when
#   - one article is repeated N times (identical copies are paired once and
#     chained past --bucket-cap into one story), and
#   - N articles share one long footer (its shingles are boilerplate; the
#     pairs are those found without it).
#
#   benches/adversarial.sh [N]        default: 100000
#
# Needs the Rust toolchain and python3. Builds both corpora from a
# `wiretrace synth` corpus of N articles under $WIRETRACE_BENCH_DIR (default
# /tmp/wiretrace-bench), scans each with the flags in $WIRETRACE_ADV_FLAGS
# (default: the default run without passage alignment, as in the README),
# and prints wall time, peak RSS and what the scan found. Exits non-zero
# when the footer changes the related pairs or the repeated article is not
# one story.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WIRETRACE_BENCH_DIR:-/tmp/wiretrace-bench}
n=${1:-100000}
read -r -a flags <<< "${WIRETRACE_ADV_FLAGS---no-passages}"
export PYTHONPATH="$root/benches${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"

(cd "$root" && cargo build --release --quiet)
wt="$root/target/release/wiretrace"
corpus="$work/synth-$n.jsonl"
[ -f "$corpus" ] || "$wt" synth --docs "$n" --seed 1 --out "$corpus" >&2

repeated="$work/adv-repeated-$n.jsonl"
footer="$work/adv-footer-$n.jsonl"
python3 - "$corpus" "$repeated" "$footer" "$n" <<'EOF'
import json, sys
src, repeated, footer, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(src) as f:
    first = json.loads(f.readline())
with open(repeated, "w") as out:
    for i in range(n):
        rec = dict(first, id=f"copy{i:07d}", outlet=f"Outlet {i % 500}")
        out.write(json.dumps(rec) + "\n")
# 1,200 characters of site furniture, the same under every article.
tail = ("Subscribe to our newsletter for the latest headlines, sent every "
        "morning. Read our privacy policy and terms of use before you comment. "
        "All rights reserved; no part of this site may be reproduced without "
        "permission. Follow us on social media for breaking news alerts. ")
tail = (tail * 6)[:1200]
with open(src) as f, open(footer, "w") as out:
    for line in f:
        rec = json.loads(line)
        rec["text"] = rec["text"] + "\n\n" + tail
        out.write(json.dumps(rec) + "\n")
EOF

scan() { # name input
  local out="$work/adv-report-$1-$n"
  rm -rf "$out"
  python3 "$root/benches/measure.py" "$work/adv-$1-$n.json" \
    "$wt" scan "$2" --out "$out" --quiet "${flags[@]}" > "$work/adv-$1-$n.log"
  python3 - "$1" "$out/summary.json" "$work/adv-$1-$n.json" <<'EOF'
import json, sys
name, summary, timing = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
print(f"| {name} | {timing['wall_s']:.1f} | {timing['peak_rss_mb']:.0f} | "
      f"{summary['records']['scanned']} | {summary['identical_copies']} | "
      f"{summary['boilerplate_shingles']} | {summary['verified_pairs']} | "
      f"{summary['stories']} | {summary['largest_story']} |")
EOF
}

echo "$n articles, wiretrace scan ${flags[*]}"
echo
echo "| input | wall (s) | peak RSS (MiB) | scanned | identical copies | boilerplate shingles | related pairs | stories | largest story |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
scan plain "$corpus"
scan repeated "$repeated"
scan footer "$footer"

fail=0
stories=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['stories'], s['largest_story'])" "$work/adv-report-repeated-$n/summary.json")
[ "$stories" = "1 $n" ] || { echo "FAIL: the repeated article should be one story of $n, got (stories, largest) = ($stories)"; fail=1; }
if ! cmp -s <(cut -d, -f1-2 "$work/adv-report-plain-$n/pairs.csv") <(cut -d, -f1-2 "$work/adv-report-footer-$n/pairs.csv"); then
  echo "FAIL: the shared footer changed the related pairs"
  fail=1
fi
[ $fail -eq 0 ] && echo && echo "the footer left the related pairs unchanged; the repeated article is one story"
exit $fail
