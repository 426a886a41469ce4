#!/usr/bin/env python3
"""One peer's fastest documented MinHash-LSH path on a wiretrace synth corpus.

usage: peers.py TOOL CORPUS.jsonl TRUTH.jsonl RESULT.json
TOOL is datasketch, rensa or gaoya. All use lowercased word 5-shingles,
128 permutations (gaoya: 25 bands x 5 rows = 125) and threshold 0.5, and
report the candidate pairs their LSH index returns (none of them scores or
verifies pairs). Same-story recall is computed against the truth file.
"""
import json
import re
import sys
import time

TOKEN = re.compile(r"\w+")


def shingles(text):
    toks = TOKEN.findall(text.lower())
    if len(toks) < 5:
        return [" ".join(toks)]
    return [" ".join(toks[i:i + 5]) for i in range(len(toks) - 4)]


def load(path):
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ids.append(rec["id"])
            texts.append(rec["text"])
    return ids, texts


def pairs_from_neighbours(neighbours):
    out = set()
    for i, ns in enumerate(neighbours):
        for j in ns:
            if j != i:
                out.add((min(i, j), max(i, j)))
    return out


def run_datasketch(texts):
    from datasketch import LeanMinHash, MinHash, MinHashLSH
    # Hash in batches so only compact signatures, never all shingle lists, are held.
    mhs = []
    for start in range(0, len(texts), 10_000):
        batch = [[s.encode("utf-8") for s in shingles(t)] for t in texts[start:start + 10_000]]
        mhs.extend(LeanMinHash(m) for m in MinHash.bulk(batch, num_perm=128))
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    with lsh.insertion_session() as session:
        for i, m in enumerate(mhs):
            session.insert(i, m)
    return pairs_from_neighbours(lsh.query(m) for m in mhs)


def run_rensa(texts):
    from rensa import RMinHash, RMinHashLSH
    mhs = RMinHash.from_token_sets((shingles(t) for t in texts), num_perm=128, seed=42)
    lsh = RMinHashLSH(0.5, 128, 32)  # 128 must divide by the band count: 32 x 4
    lsh.insert_many(mhs, 0)
    return pairs_from_neighbours(lsh.query_all(mhs))


def run_gaoya(texts):
    from gaoya.minhash import MinHashStringIndex
    index = MinHashStringIndex(hash_size=32, jaccard_threshold=0.5, num_bands=25, band_size=5,
                               analyzer="word", lowercase=True, ngram_range=(5, 5), id_container="vec")
    index.par_bulk_insert_docs(list(range(len(texts))), texts)
    return pairs_from_neighbours(index.par_bulk_query(texts))


def same_story_pairs(truth_path, ids):
    pos = {d: i for i, d in enumerate(ids)}
    stories = {}
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            stories.setdefault(t["story"], []).append(pos[t["id"]])
    out = set()
    for members in stories.values():
        members.sort()
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                out.add((members[x], members[y]))
    return out


def main():
    tool, corpus, truth, result = sys.argv[1:5]
    start = time.time()
    ids, texts = load(corpus)
    pairs = {"datasketch": run_datasketch, "rensa": run_rensa, "gaoya": run_gaoya}[tool](texts)
    elapsed = time.time() - start
    positives = same_story_pairs(truth, ids)
    found = len(pairs & positives)
    json.dump({"tool": tool, "seconds_inside": elapsed, "pairs": len(pairs),
               "recall": found / max(1, len(positives)),
               "precision": found / max(1, len(pairs))}, open(result, "w"))


if __name__ == "__main__":
    main()
