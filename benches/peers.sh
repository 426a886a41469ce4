#!/usr/bin/env bash
# End-to-end benchmark: wiretrace against datasketch, rensa and gaoya on the
# same synthetic corpus, recording wall time, peak RSS and same-story recall.
#
#   benches/peers.sh [DOCS...]        default: 100000
#
# Needs the Rust toolchain and python3 (with venv). The peers are installed
# from PyPI into a virtualenv under $WIRETRACE_BENCH_DIR (default
# /tmp/wiretrace-bench), outside the repository; corpora and reports go
# there too. Prints a Markdown table; results also land in
# $WIRETRACE_BENCH_DIR/results.md.
#
# WIRETRACE_PEERS picks the peers (default "datasketch rensa gaoya"); set
# to the empty string, only wiretrace runs and nothing is installed.
#
# WIRETRACE_BENCH_RUNS=N runs every tool N times (default 1), one tool after
# another; the table gives the median wall time with the range, the largest
# peak RSS and the last run's recall. On a VM, page-fault time alone can
# move one run by 20-40%.
#
# WIRETRACE_BENCH_LIMIT sets the --memory-limit of the bounded row
# (default 1G). WIRETRACE_BENCH_MODES picks wiretrace's rows (default
# "full no-passages verbatim tables bounded"; empty runs only the peers).
#
# Each wiretrace report's passages.csv and report.html are deleted once
# evaluated: at 1M the full run's are 12 GB, and the bounded run after it
# needs about 3 GB of disk for the shingle sets it keeps in a file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WIRETRACE_BENCH_DIR:-/tmp/wiretrace-bench}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000)
peers=${WIRETRACE_PEERS-datasketch rensa gaoya}
runs=${WIRETRACE_BENCH_RUNS:-1}
# The table-building snippets below import measure.py's helpers.
export PYTHONPATH="$root/benches${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"

(cd "$root" && cargo build --release --quiet)
wt="$root/target/release/wiretrace"
py=python3
if [ -n "$peers" ]; then
  if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv" || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$work/venv"; }
  fi
  "$work/venv/bin/pip" install -q --disable-pip-version-check datasketch rensa gaoya
  py="$work/venv/bin/python"
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
table="$work/results.md"
{
  echo "Hardware: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
  echo
  echo "| articles | corpus | tool | wall (s) | peak RSS (MiB) | same-story recall | pairs reported |"
  echo "|---:|---:|---|---:|---:|---:|---:|"
  [ "$runs" -gt 1 ] && echo "<!-- wall: median of $runs runs (min-max); peak RSS: largest of them -->"
} > "$table"

for n in "${sizes[@]}"; do
  corpus="$work/synth-$n.jsonl"
  truth="$work/synth-$n.truth.jsonl"
  if [ ! -f "$corpus" ] || [ ! -f "$truth" ]; then
    "$wt" synth --docs "$n" --seed 1 --out "$corpus" >&2
  fi
  mb=$(( $(stat -c %s "$corpus") / 1000000 ))
  # wiretrace four ways: the full scan (passages, reworded view,
  # report.html); without passage alignment; the verbatim pipeline (sketch,
  # LSH, passage index, exact verification, stories, CSVs and the page:
  # what the peers do, and more); and the same without the page, the
  # tables only, which is the like-for-like row (the peers write no page);
  # and the tables under --memory-limit (WIRETRACE_BENCH_LIMIT, default
  # 1G), with band keys, candidate pairs and shingle sets on disk.
  limit="${WIRETRACE_BENCH_LIMIT:-1G}"
  for mode in ${WIRETRACE_BENCH_MODES-full no-passages verbatim tables bounded}; do
    report="$work/report-$n-$mode"
    extra=()
    [ "$mode" = no-passages ] && extra=(--no-passages)
    [ "$mode" = verbatim ] && extra=(--no-passages --no-reworded)
    [ "$mode" = tables ] && extra=(--no-passages --no-reworded --no-html)
    [ "$mode" = bounded ] && extra=(--no-passages --no-reworded --no-html --memory-limit "$limit")
    rm -f "$work/wt-$n-$mode".r*.json
    for r in $(seq "$runs"); do
      python3 "$root/benches/measure.py" "$work/wt-$n-$mode.r$r.json" "$wt" scan "$corpus" --out "$report" --quiet "${extra[@]}" >&2
    done
    "$wt" eval --truth "$truth" --report "$report" --json "$work/wt-eval-$n-$mode.json" >&2
    rm -f "$report/passages.csv" "$report/report.html"
    python3 - "$work/wt-eval-$n-$mode.json" "$n" "$mb" "$mode" "$limit" "$work/wt-$n-$mode".r*.json >> "$table" <<'PY'
import json, sys
from measure import cells
e = json.load(open(sys.argv[1]))
wall, peak = cells(sys.argv[6:])
label = {"full": "wiretrace", "no-passages": "wiretrace --no-passages", "verbatim": "wiretrace --no-passages --no-reworded", "tables": "wiretrace --no-passages --no-reworded --no-html", "bounded": f"wiretrace --no-passages --no-reworded --no-html --memory-limit {sys.argv[5]}"}[sys.argv[4]]
print(f"| {int(sys.argv[2]):,} | {sys.argv[3]} MB | {label} | {wall} | {peak} | {e['pairs']['recall']:.3f} | {e['pairs']['reported']:,} |")
PY
  done
  for tool in $peers; do
    rm -f "$work/$tool-$n-result.json" "$work/$tool-$n".r*.json
    for r in $(seq "$runs"); do
      # A peer that fails (e.g. killed for memory) gets a row saying so; the run goes on.
      python3 "$root/benches/measure.py" "$work/$tool-$n.r$r.json" "$py" "$root/benches/peers.py" "$tool" "$corpus" "$truth" "$work/$tool-$n-result.json" >&2 || break
    done
    python3 - "$work/$tool-$n-result.json" "$n" "$mb" "$tool" "$work/$tool-$n".r*.json >> "$table" <<'PY'
import json, os, sys
from measure import cells
ms = [json.load(open(f)) for f in sys.argv[5:]]
failed = [m for m in ms if m["exit"] != 0]
if failed or not os.path.exists(sys.argv[1]):
    m = (failed or ms)[-1]
    why = "killed (out of memory?)" if m["exit"] == -9 else f"exit {m['exit']}"
    print(f"| {int(sys.argv[2]):,} | {sys.argv[3]} MB | {sys.argv[4]} | failed after {m['wall_s']:.0f} s: {why} | {m['peak_rss_mb']:.0f} | | |")
else:
    r = json.load(open(sys.argv[1]))
    wall, peak = cells(sys.argv[5:])
    print(f"| {int(sys.argv[2]):,} | {sys.argv[3]} MB | {r['tool']} | {wall} | {peak} | {r['recall']:.3f} | {r['pairs']:,} |")
PY
  done
done
cat "$table"
