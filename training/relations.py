"""Relation classifier distilled from the silver UMLS triples (relations/*), exported as a project bundle.

Candidates are every ordered pair (i < j) of non-O phrases (types NE / E) of a sentence; pairs the silver
precompute lists carry its relation, the rest are NA (the extractor's precompute keeps only non-NA
predictions). The encoder runs once per sentence in training (cheap on one CPU thread) and pair features are
pooled from head/tail masks, so the exported graph with one pair per row computes exactly the same logits.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen.wordvocab import MAX_WORD_LEN, WordVocab  # noqa: E402

DATASETS = ["bc5cdr", "ncbi", "bc2gm", "jnlpba", "ebmnlp"]


def data_root():
    """$BIOSTREAM_DATA, else ../shared/data from the project root (same rule as src/io/dataPath.ts)."""
    return os.environ.get("BIOSTREAM_DATA") or os.path.join(os.path.dirname(HERE), "..", "shared", "data")


def load_examples(root, datasets, sizes, max_sentences=0):
    """Sentences (words, phrase spans, pairs) deduplicated across splits; relation names in rel2id spelling."""
    rel2id = json.load(open(os.path.join(root, "relations", "umls-rel2id.json"), encoding="utf-8"))
    by_spaced = {k.replace("_", " "): k for k in rel2id}
    seen, out = set(), []
    for ds in datasets:
        for sz in sizes:
            d = os.path.join(root, "relations", ds, str(sz))
            sp, pp = os.path.join(d, "train_processed.json"), os.path.join(d, "train_processed_precompute.json")
            if not os.path.isfile(sp):
                raise FileNotFoundError(f"relations: {sp} not found (datasets: {', '.join(DATASETS)}; sizes 100, 200, 500)")
            sents = json.load(open(sp, encoding="utf-8"))
            pre = json.load(open(pp, encoding="utf-8"))
            for s in sents:
                phrases, types = s["sentence"], s["type"]
                if len(phrases) != len(types):
                    raise ValueError(f"relations: {sp} sentence {s['id']}: {len(phrases)} phrases but {len(types)} types")
                key = (ds, tuple(phrases))
                if key in seen:
                    continue
                seen.add(key)
                words, spans = [], []
                for ph in phrases:
                    ws = ph.split() or [ph]
                    spans.append((len(words), len(words) + len(ws)))
                    words.extend(ws)
                cand = [i for i, t in enumerate(types) if t in ("NE", "E")]
                listed = pre.get(s["id"], {})
                pairs = []
                for a in range(len(cand)):
                    for b in range(a + 1, len(cand)):
                        i, j = cand[a], cand[b]
                        rel = listed.get(f"{i}-{j}")
                        name = "NA"
                        if rel is not None:
                            name = by_spaced.get(rel["relation"], rel["relation"])
                            if name not in rel2id:
                                raise ValueError(f"relations: {pp} {s['id']} {i}-{j}: unknown relation {rel['relation']!r}")
                        pairs.append((spans[i], spans[j], rel2id[name]))
                if not pairs:
                    continue
                out.append({"key": f"{ds}:{' '.join(phrases)}", "words": words, "pairs": pairs})
                if max_sentences and len(out) >= max_sentences:
                    return out, rel2id
    return out, rel2id


def is_heldout(key, share):
    """Stable by-sentence split: md5 of the sentence key, so duplicates land on one side."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def build_model(nwords, nchars, nlabels, dim=128, wdim=96, cdim=24, cfilters=48):
    """Word+char CNN encoder (dilated, masked: padding-invariant) with head/tail pooling and an MLP head."""
    import torch
    from torch import nn

    class RelNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.wemb = nn.Embedding(nwords, wdim, padding_idx=0)
            self.cemb = nn.Embedding(nchars, cdim, padding_idx=0)
            self.cconv = nn.Conv1d(cdim, cfilters, 3, padding=1)
            self.proj = nn.Linear(wdim + cfilters, dim)
            self.convs = nn.ModuleList([nn.Conv1d(dim, dim, 3, padding=d, dilation=d) for d in (1, 2, 4)])
            self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(3)])
            self.drop = nn.Dropout(0.25)
            self.head = nn.Sequential(nn.Linear(5 * dim, 2 * dim), nn.GELU(), nn.Dropout(0.25), nn.Linear(2 * dim, nlabels))

        def encode(self, word_ids, char_ids, mask):
            b, t, c = char_ids.shape
            ce = self.cemb(char_ids.reshape(b * t, c)).transpose(1, 2)
            co = self.cconv(ce)
            cmask = (char_ids.reshape(b * t, 1, c) > 0).float()
            # pad characters must not win the max, or features would depend on the batch's word length
            co = (co * cmask + (cmask - 1.0) * 1e4).max(dim=2).values
            co = co * (cmask.sum(dim=2) > 0).float()
            x = torch.cat([self.wemb(word_ids), co.reshape(b, t, -1)], dim=-1)
            m = mask.unsqueeze(-1)
            h = self.proj(self.drop(x)) * m
            for conv, norm in zip(self.convs, self.norms):
                h = norm(h + torch.nn.functional.gelu(conv(h.transpose(1, 2)).transpose(1, 2))) * m
            return h

        def classify(self, h, mask, head_mask, tail_mask):
            def mean(w):
                return (h * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True).clamp(min=1.0)

            hh, tt = mean(head_mask), mean(tail_mask)
            ctx = (h + (mask.unsqueeze(-1) - 1.0) * 1e4).max(dim=1).values
            return self.head(self.drop(torch.cat([hh, tt, hh * tt, hh - tt, ctx], dim=-1)))

        def classify_grouped(self, h, mask, hm, tm, valid):
            """Training/eval path: hm/tm [B, P, T] pair masks per sentence, pooled with bmm (no [pairs, T, D] copy).

            Same arithmetic as classify (masked means, masked max), so the exported one-pair-per-row graph
            reproduces these logits."""
            hh = torch.bmm(hm, h) / hm.sum(2, keepdim=True).clamp(min=1.0)
            tt = torch.bmm(tm, h) / tm.sum(2, keepdim=True).clamp(min=1.0)
            ctx = (h + (mask.unsqueeze(-1) - 1.0) * 1e4).max(dim=1).values
            ctx = ctx.unsqueeze(1).expand(-1, hm.shape[1], -1)
            feats = torch.cat([hh, tt, hh * tt, hh - tt, ctx], dim=-1)[valid]
            return self.head(self.drop(feats))

        def forward(self, word_ids, char_ids, mask, head_mask, tail_mask):
            return self.classify(self.encode(word_ids, char_ids, mask), mask, head_mask, tail_mask)

    return RelNet()


def tensorize(batch, vocab):
    """Pad a batch of sentences: word/char/mask tensors, per-sentence pair masks [B, P, T], validity, labels."""
    import torch

    t = max(len(s["words"]) for s in batch)
    c = max(min(len(w), MAX_WORD_LEN) for s in batch for w in s["words"])
    pmax = max(len(s["pairs"]) for s in batch)
    wid = torch.zeros(len(batch), t, dtype=torch.long)
    cid = torch.zeros(len(batch), t, c, dtype=torch.long)
    mask = torch.zeros(len(batch), t)
    hm = torch.zeros(len(batch), pmax, t)
    tm = torch.zeros(len(batch), pmax, t)
    valid = torch.zeros(len(batch), pmax, dtype=torch.bool)
    y = []
    for r, s in enumerate(batch):
        n = len(s["words"])
        wid[r, :n] = torch.tensor(vocab.word_ids(s["words"]))
        for k, ch in enumerate(vocab.char_ids(s["words"])):
            cid[r, k, : len(ch)] = torch.tensor(ch)
        mask[r, :n] = 1
        for k, ((h0, h1), (t0, t1), lab) in enumerate(s["pairs"]):
            hm[r, k, h0:h1] = 1
            tm[r, k, t0:t1] = 1
            valid[r, k] = True
            y.append(lab)
    return wid, cid, mask, hm, tm, valid, torch.tensor(y)


def evaluate(model, data, vocab, na_id, bs=64):
    """Agreement with the silver labels: accuracy, macro-F1 over labels present in gold, NA-vs-relation F1."""
    import torch

    model.eval()
    gold, pred = [], []
    with torch.no_grad():
        for k in range(0, len(data), bs):
            wid, cid, mask, hm, tm, valid, y = tensorize(data[k : k + bs], vocab)
            logits = model.classify_grouped(model.encode(wid, cid, mask), mask, hm, tm, valid)
            gold.extend(y.tolist())
            pred.extend(logits.argmax(-1).tolist())
    model.train()
    n = len(gold)
    acc = sum(int(g == p) for g, p in zip(gold, pred)) / max(n, 1)
    f1s = []
    for lab in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
    tp = sum(1 for g, p in zip(gold, pred) if g != na_id and p != na_id)
    fp = sum(1 for g, p in zip(gold, pred) if g == na_id and p != na_id)
    fn = sum(1 for g, p in zip(gold, pred) if g != na_id and p == na_id)
    return {
        "pairs": n,
        "accuracy": round(100 * acc, 2),
        "macroF1": round(100 * sum(f1s) / max(len(f1s), 1), 2),
        "labelsPresent": len(f1s),
        "naVsRelationF1": round(100 * 2 * tp / max(2 * tp + fp + fn, 1), 2),
        "naShare": round(100 * sum(1 for g in gold if g == na_id) / max(n, 1), 2),
    }


def export(model, vocab, labels, outdir, meta):
    """Write model.onnx (one pair per row), tokenizer.json, chars.json and model.json into outdir."""
    import torch

    os.makedirs(outdir, exist_ok=True)
    model.eval()
    b, t, c = 2, 7, 5
    args = (
        torch.ones(b, t, dtype=torch.long),
        torch.ones(b, t, c, dtype=torch.long),
        torch.ones(b, t),
        torch.zeros(b, t),
        torch.zeros(b, t),
    )
    names = ["word_ids", "char_ids", "mask", "head_mask", "tail_mask"]
    dyn = {n: {0: "batch", 1: "words"} for n in names}
    dyn["char_ids"][2] = "chars"
    dyn["logits"] = {0: "batch"}
    torch.onnx.export(
        model, args, os.path.join(outdir, "model.onnx"), input_names=names, output_names=["logits"], dynamic_axes=dyn, opset_version=13
    )
    vocab.save(outdir)
    verbalize = {lab: lab.replace("_", " ") for lab in labels if lab != "NA"}
    mj = {
        "format": 1,
        "name": "relations",
        "task": "relation-classification",
        "labels": labels,
        "maxLength": 256,
        "inputs": {"words": "word_ids", "chars": "char_ids", "mask": "mask", "head": "head_mask", "tail": "tail_mask"},
        "outputs": {"logits": "logits"},
        "files": {"model": "model.onnx", "tokenizer": "tokenizer.json", "chars": "chars.json"},
        "verbalize": verbalize,
        **meta,
    }
    with open(os.path.join(outdir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(mj, f, indent=1, ensure_ascii=False)


def write_reference(model, vocab, sents, labels, path):
    """PyTorch logits for a few pairs, one pair per row as the exported graph sees them."""
    import torch

    model.eval()
    items = []
    with torch.no_grad():
        for s in sents:
            for (h0, h1), (t0, t1), lab in s["pairs"][:2]:
                wid, cid, mask, hm, tm, _, _ = tensorize([{"words": s["words"], "pairs": [((h0, h1), (t0, t1), lab)]}], vocab)
                logits = model(wid, cid, mask, hm[:, 0], tm[:, 0])[0]
                items.append({"words": s["words"], "head": [h0, h1], "tail": [t0, t1], "logits": [round(float(x), 6) for x in logits], "silver": labels[lab]})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"items": items}, f, ensure_ascii=False)


def main(argv=None):
    p = argparse.ArgumentParser(description="relation classifier distilled from the silver UMLS triples")
    p.add_argument("--data", default=None, help="shared data root (default $BIOSTREAM_DATA or ../shared/data)")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--sizes", default="100,200,500")
    p.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "models", "relations"))
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (smoke tests)")
    p.add_argument("--max-sentences", type=int, default=0, help="use the first N sentences only (smoke tests)")
    p.add_argument("--holdout", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reference", action="store_true", help="also write reference.json (PyTorch logits) for parity tests")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    root = a.data or data_root()
    datasets = [d for d in a.datasets.split(",") if d]
    for d in datasets:
        if d not in DATASETS:
            sys.exit(f"relations: unknown dataset {d!r} (valid: {', '.join(DATASETS)})")
    data, rel2id = load_examples(root, datasets, [s for s in a.sizes.split(",") if s], a.max_sentences)
    labels = [k for k, _ in sorted(rel2id.items(), key=lambda x: x[1])]
    na_id = rel2id["NA"]
    train = [s for s in data if not is_heldout(s["key"], a.holdout)]
    held = [s for s in data if is_heldout(s["key"], a.holdout)] or train[:8]
    vocab = WordVocab([w for s in train for w in s["words"]], min_count=1 if a.max_sentences else 2)
    npairs = sum(len(s["pairs"]) for s in train)
    print(
        f"relations: {len(train)} train sentences ({npairs} pairs), {len(held)} held out; "
        f"{len(vocab.word2id)} words, {len(vocab.char2id) + 2} chars, {len(labels)} labels",
        flush=True,
    )
    model = build_model(len(vocab.word2id), len(vocab.char2id) + 2, len(labels))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    total = a.max_steps or a.epochs * ((len(train) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=max(total, 1), pct_start=0.1)
    rng = random.Random(a.seed)
    step, best, best_state, t0 = 0, -1.0, None, time.time()
    for ep in range(a.epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        tot = 0.0
        for k in range(0, len(order), a.batch):
            if step >= total:
                break
            wid, cid, mask, hm, tm, valid, y = tensorize([train[i] for i in order[k : k + a.batch]], vocab)
            logits = model.classify_grouped(model.encode(wid, cid, mask), mask, hm, tm, valid)
            loss = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            tot += loss.item()
        m = evaluate(model, held, vocab, na_id)
        print(f"relations: epoch {ep + 1} step {step} loss {tot / max(1, (len(order) + a.batch - 1) // a.batch):.4f} held-out {json.dumps(m)} ({time.time() - t0:.0f}s)", flush=True)
        if m["macroF1"] + m["accuracy"] > best:
            best = m["macroF1"] + m["accuracy"]
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if step >= total:
            break
    model.load_state_dict(best_state)
    m = evaluate(model, held, vocab, na_id)
    cmd = "npm run train -- relations" + (f" --epochs {a.epochs}" if a.epochs != 12 else "") + (f" --seed {a.seed}" if a.seed != 1 else "")
    meta = {
        "provenance": {
            "recipe": "training/relations.py",
            "data": f"relations/{{{','.join(datasets)}}}/{{{a.sizes}}}/train_processed*.json",
            "seed": a.seed,
            "command": cmd,
            "holdout": f"{int(a.holdout * 100)}% of sentences by md5 of dataset+text",
        },
        "metrics": {"heldout": m},
    }
    export(model, vocab, labels, a.out, meta)
    if a.reference:
        write_reference(model, vocab, held[:3], labels, os.path.join(a.out, "reference.json"))
    print(f"relations: final held-out {json.dumps(m)}; bundle -> {a.out}", flush=True)
    print(json.dumps({"recipe": "relations", "out": a.out, "heldout": m}), flush=True)


if __name__ == "__main__":
    main()
