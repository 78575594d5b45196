"""Train word2vec embeddings on the in-domain corpus (AdaBioBERT's word features).

128 dimensions and window 7 follow the paper; workers=1 plus a fixed seed make the
vectors reproducible run to run (gensim is only deterministic single-threaded).
"""
import argparse
import hashlib
import os
import sys

from lib.text import normalize_word


def main(argv=None):
    p = argparse.ArgumentParser(description="word2vec on a tokenized corpus (one sentence per line)")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="output .kv (gensim KeyedVectors)")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--window", type=int, default=7)
    p.add_argument("--min-count", type=int, default=3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-lines", type=int, default=0, help="use only the first N lines (smoke tests)")
    a = p.parse_args(argv)

    from gensim.models import Word2Vec

    sents = []
    with open(a.corpus, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if a.max_lines and i >= a.max_lines:
                break
            toks = [normalize_word(t) for t in line.split()]
            if toks:
                sents.append(toks)
    if not sents:
        sys.exit(f"word2vec: corpus {a.corpus} has no tokens")
    print(f"word2vec: {len(sents)} sentences from {a.corpus}", flush=True)
    # PYTHONHASHSEED matters to gensim's hashing of initial vectors: fix it via hashfxn.
    model = Word2Vec(
        sentences=sents,
        vector_size=a.dim,
        window=a.window,
        min_count=min(a.min_count, 1) if a.max_lines else a.min_count,
        workers=1,
        seed=a.seed,
        epochs=a.epochs,
        sg=1,
        hashfxn=lambda s: int(hashlib.md5(s.encode("utf-8")).hexdigest()[:8], 16),
    )
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    model.wv.save(a.out)
    print(f"word2vec: {len(model.wv.index_to_key)} words x {a.dim} -> {a.out}", flush=True)


if __name__ == "__main__":
    main()
