//! Criterion benches, one group per pipeline stage, on a seeded synthetic
//! corpus (the same generator as `wiretrace synth`). Throughput is in bytes
//! of article text, so results read as MB/s.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wiretrace::config::{FingerprintConfig, LshConfig, VerifyConfig};
use wiretrace::lsh;
use wiretrace::minhash::{Sketcher, sketch_kperm};
use wiretrace::shingle::{self, ShingleSet};
use wiretrace::synth::{Generator, SynthConfig};

struct Corpus {
    texts: Vec<String>,
    bytes: u64,
    sets: Vec<ShingleSet>,
}

fn corpus(docs: usize) -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.jsonl");
    Generator::new(SynthConfig {
        docs,
        seed: 3,
        ..SynthConfig::default()
    })
    .unwrap()
    .run(&path)
    .unwrap();
    let texts: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let bytes = texts.iter().map(|t| t.len() as u64).sum();
    let sets = texts
        .iter()
        .map(|t| {
            let mut toks = Vec::new();
            shingle::tokenize(t, &mut toks);
            let mut s = Vec::new();
            shingle::shingles(&toks, 5, &mut s);
            s
        })
        .collect();
    Corpus { texts, bytes, sets }
}

fn bench_stages(c: &mut Criterion) {
    let corpus = corpus(2000);
    let shingles: u64 = corpus.sets.iter().map(|s| s.len() as u64).sum();

    let mut g = c.benchmark_group("shingle");
    g.throughput(Throughput::Bytes(corpus.bytes));
    g.bench_function("tokenize", |b| {
        let mut toks = Vec::new();
        b.iter(|| {
            for t in &corpus.texts {
                toks.clear();
                shingle::tokenize(black_box(t), &mut toks);
            }
        })
    });
    g.bench_function("tokenize+shingle", |b| {
        let (mut toks, mut set) = (Vec::new(), Vec::new());
        b.iter(|| {
            for t in &corpus.texts {
                toks.clear();
                shingle::tokenize(black_box(t), &mut toks);
                shingle::shingles(&toks, 5, &mut set);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sketch");
    g.throughput(Throughput::Elements(shingles));
    for k in [64usize, 128] {
        let s = Sketcher::new(k, 1);
        let mut out = vec![0u32; k];
        g.bench_with_input(BenchmarkId::new("one-permutation", k), &k, |b, _| {
            b.iter(|| {
                for set in &corpus.sets {
                    s.sketch_into(black_box(set), &mut out);
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("k-permutation", k), &k, |b, &k| {
            b.iter(|| {
                for set in &corpus.sets {
                    black_box(sketch_kperm(black_box(set), k, 1));
                }
            })
        });
    }
    g.finish();

    let sketcher = Sketcher::new(128, 1);
    let sigs: Vec<Vec<u32>> = corpus.sets.iter().map(|s| sketcher.sketch(s)).collect();
    let refs: Vec<Option<&[u32]>> = sigs.iter().map(|s| Some(s.as_slice())).collect();
    let mut g = c.benchmark_group("candidates");
    g.throughput(Throughput::Bytes(corpus.bytes));
    for t in [0.3, 0.5] {
        let banding = lsh::optimal_banding(t, 128, 0.5, 0.5);
        g.bench_with_input(BenchmarkId::new("lsh", t), &banding, |b, &banding| {
            b.iter(|| lsh::candidates(black_box(&refs), banding, &LshConfig::default()))
        });
    }
    g.bench_function("passage-fingerprints", |b| {
        b.iter(|| {
            wiretrace::fingerprint::candidates(
                black_box(&corpus.sets),
                &FingerprintConfig::default(),
                &wiretrace::observe::Silent,
            )
        })
    });
    g.finish();

    let banding = lsh::optimal_banding(0.3, 128, 0.5, 0.5);
    let (pairs, _) = lsh::candidates(&refs, banding, &LshConfig::default());
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("exact-containment", |b| {
        b.iter(|| {
            wiretrace::verify::verify(
                black_box(&pairs),
                &corpus.sets[..],
                &VerifyConfig::default(),
            )
        })
    });
    // The same with the sets in a file, as under --memory-limit: each
    // pair's second set is read back by offset.
    let dir = tempfile::tempdir().unwrap();
    let mut on_disk = wiretrace::sets::Sets::default();
    on_disk
        .append(&mut corpus.sets.clone(), Some(0), dir.path())
        .unwrap();
    g.bench_function("exact-containment-sets-in-a-file", |b| {
        b.iter(|| wiretrace::verify::verify(black_box(&pairs), &on_disk, &VerifyConfig::default()))
    });
    g.finish();
}

fn bench_align(c: &mut Criterion) {
    use wiretrace::align::{Prepared, align};
    use wiretrace::config::AlignConfig;
    let corpus = corpus(400);
    // Pairs of articles that share text: each against the next one sharing shingles.
    let mut pairs = Vec::new();
    for i in 0..corpus.texts.len() {
        for j in i + 1..corpus.texts.len() {
            if wiretrace::verify::intersection_size(&corpus.sets[i], &corpus.sets[j]) >= 20 {
                pairs.push((i, j));
                break;
            }
        }
    }
    let bytes: u64 = pairs
        .iter()
        .map(|&(i, j)| (corpus.texts[i].len() + corpus.texts[j].len()) as u64)
        .sum();
    let cfg = AlignConfig::default();
    let mut g = c.benchmark_group("align");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("prepare+align related pairs", |b| {
        b.iter(|| {
            for &(i, j) in &pairs {
                let pa = Prepared::new(&corpus.texts[i], 5);
                let pb = Prepared::new(&corpus.texts[j], 5);
                black_box(align(&pa, &pb, &cfg, &|_| false));
            }
        })
    });
    g.finish();
}

fn bench_reword(c: &mut Criterion) {
    use wiretrace::config::RewordConfig;
    use wiretrace::reword::{self, TermCache};
    let corpus = corpus(400);
    let mut g = c.benchmark_group("reword");
    g.throughput(Throughput::Bytes(corpus.bytes));
    // One warm term cache, as each worker thread keeps one for the scan.
    let mut cache = TermCache::default();
    g.bench_function("analyze (sentences, stemmed terms)", |b| {
        b.iter(|| {
            for t in &corpus.texts {
                black_box(reword::analyze(t, &mut cache, None));
            }
        })
    });
    // Pairs sharing some text, as the sentence buckets would propose them.
    let pairs: Vec<(usize, usize)> = (0..corpus.texts.len())
        .filter_map(|i| {
            (i + 1..corpus.texts.len())
                .find(|&j| {
                    wiretrace::verify::intersection_size(&corpus.sets[i], &corpus.sets[j]) >= 20
                })
                .map(|j| (i, j))
        })
        .collect();
    let bytes: u64 = pairs
        .iter()
        .map(|&(i, j)| (corpus.texts[i].len() + corpus.texts[j].len()) as u64)
        .sum();
    let cfg = RewordConfig::default();
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("analyze+align related pairs", |b| {
        b.iter(|| {
            for &(i, j) in &pairs {
                black_box(reword::align_texts(
                    &corpus.texts[i],
                    &corpus.texts[j],
                    &cfg,
                ));
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = bench_stages, bench_align, bench_reword
}
criterion_main!(benches);
