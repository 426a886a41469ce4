#!/usr/bin/env python3
"""usage: measure.py OUT.json CMD... -- runs CMD, writes its wall time and peak RSS.

Also a module: `cells(files)` turns the OUT.json files of repeated runs
into the table's wall-time and peak-RSS cells (used by peers.sh)."""
import json
import resource
import statistics
import subprocess
import sys
import time


def cells(files):
    """(wall, peak): the median wall time with its range when there are
    several runs, and the largest peak RSS, as table cells."""
    ms = [json.load(open(f)) for f in files]
    walls = [m["wall_s"] for m in ms]
    wall = f"{statistics.median(walls):.1f}"
    if len(walls) > 1:
        wall += f" ({min(walls):.1f}-{max(walls):.1f})"
    return wall, f"{max(m['peak_rss_mb'] for m in ms):.0f}"


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.time()
    proc = subprocess.run(cmd)
    wall = time.time() - start
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump({"wall_s": wall, "peak_rss_mb": rss_kib / 1024, "exit": proc.returncode}, open(out, "w"))
    sys.exit(0 if proc.returncode in (0, 1) else proc.returncode)


if __name__ == "__main__":
    main()
