#!/usr/bin/env python3
"""usage: measure.py OUT.json CMD... -- runs CMD, writes its wall time and peak RSS."""
import json
import resource
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
start = time.time()
proc = subprocess.run(cmd)
wall = time.time() - start
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"wall_s": wall, "peak_rss_mb": rss_kib / 1024, "exit": proc.returncode}, open(out, "w"))
sys.exit(0 if proc.returncode in (0, 1) else proc.returncode)
