"""Multi-task BiLSTM-CRF: one shared char + word encoder, one emission layer + CRF head per corpus.

The encoder (word embeddings initialised from word2vec, char CNN, forward/backward LSTMs) is
lib/tagger.Tagger's; each head is a Tagger whose encoder modules are the shared ones and whose
`out`, `trans`, `start`, `end` and adaptive-loss weight `alpha_w` are its own, so the loss of a
head is ner.py's L = a*CE + (1-a)*CRF with its own learned a, and a head exports exactly like a
single-corpus model (lib/export.export_bundle): an ordinary single-head bundle.

Batches are interleaved across corpora: each step draws a corpus k with probability
p_k = n_k^(1/T) / sum_j n_j^(1/T) (n_k training sentences; T = --temperature: 1 proportional,
large T uniform) and takes the next batch of that corpus's own shuffled length-bucketed pass.
An "epoch" is sum_k ceil(n_k / batch) steps. After each epoch the dev set of every exported head
is decoded (Viterbi with the BIO constraint, strict entity F1); each head keeps the snapshot of
the epoch with its best dev F1 (per-head model selection) and is exported from it.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

from lib.corpus import corpus_labels, init_word_vectors, load_word_vectors, read_dev, read_train
from lib.metrics import entity_prf
from lib.export import export_bundle
from lib.lmpretrain import warm_start_encoder
from lib.tagger import (
    Tagger, adaptive_loss, batchify, bucketed_batches, build_char_vocab, build_word_vocab, constraint_masks,
    encode, predict, seeded,
)

SHARED = ("wemb", "cemb", "conv", "fwd", "bwd", "drop")


class MultiTagger(nn.Module):
    """Heads share the encoder modules of the first head (parameters are deduplicated by PyTorch)."""

    def __init__(self, n_words, n_chars, label_sets, hidden):
        super().__init__()
        names = list(label_sets)
        heads = {}
        for i, name in enumerate(names):
            h = Tagger(n_words, n_chars, len(label_sets[name]), hidden=hidden)
            if i > 0:
                first = heads[names[0]]
                for m in SHARED:
                    setattr(h, m, getattr(first, m))
            heads[name] = h
        self.heads = nn.ModuleDict(heads)

    def encoder(self):
        return next(iter(self.heads.values()))


def parse_export(spec):
    out = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            sys.exit(f"multitask: --export wants head=dir[,head=dir], got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="multi-task BiLSTM-CRF: shared encoder, one CRF head per corpus")
    p.add_argument("--task", nargs="+", action="append", required=True, metavar="NAME DEV TRAIN",
                   help="a corpus: name, dev CoNLL, then one or more train CoNLL files (repeat per corpus)")
    p.add_argument("--export", required=True, help="head=bundle_dir[,head=bundle_dir]: heads to select and export")
    p.add_argument("--tag-col", type=int, default=1, help="0-based column of the BIO tag")
    p.add_argument("--w2v", default=None, help="gensim KeyedVectors (.kv) for initial word vectors")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--temperature", type=float, default=2.0,
                   help="corpus sampling p_k ~ n_k^(1/T): 1 proportional, large T uniform (default 2)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (smoke tests, timing)")
    p.add_argument("--max-train", type=int, default=0, help="first N training sentences of each corpus")
    p.add_argument("--max-dev", type=int, default=0, help="first N dev sentences of each corpus")
    p.add_argument("--time-budget", type=float, default=100000.0, help="minutes; stop starting epochs after it")
    p.add_argument("--lm-init", default=None,
                   help="start the shared encoder from a language-model encoder cache of ner.py (--lm-cache), "
                        "mapped by string where the vocabularies differ (lib/lmpretrain.warm_start_encoder)")
    p.add_argument("--vocab-size", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=1.0, help="multiply the learning rate by this after every epoch")
    p.add_argument("--hidden", type=int, default=160)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="torch device for training (cpu, cuda); export always runs on cpu")
    p.add_argument("--verify-dir", default=None,
                   help="reference emissions for the ONNX check: <dir>/<bundle name>.json (default training/work/verify)")
    p.add_argument("--command", default="", help="command line recorded in model.json provenance")
    p.add_argument("--data-desc", default="", help='JSON {corpus: {"data": ..., "dev": ...}} recorded in provenance')
    a = p.parse_args(argv)

    rng = seeded(a.seed, a.threads)
    t0 = time.time()

    tasks = {}
    for spec in a.task:
        if len(spec) < 3:
            sys.exit(f"multitask: --task wants NAME DEV TRAIN [TRAIN...], got {spec}")
        name, dev_f, trains = spec[0], spec[1], spec[2:]
        train = read_train(trains, a.tag_col, None, a.max_train)
        dev = read_dev(dev_f, a.tag_col, None, a.max_dev)
        labels = corpus_labels(train, dev, f"multitask: {name}")
        tasks[name] = {"train": train, "dev": dev, "labels": labels, "dev_file": dev_f, "train_files": trains}
    exports = parse_export(a.export)
    for h in exports:
        if h not in tasks:
            sys.exit(f"multitask: --export head {h!r} is not a corpus; corpora: {', '.join(tasks)}")
    desc = json.loads(a.data_desc) if a.data_desc else {}
    for n, t in tasks.items():
        d = desc.get(n) or {}
        t["data_desc"] = d.get("data") or " ".join(t["train_files"])
        t["dev_desc"] = d.get("dev") or t["dev_file"]

    kv = load_word_vectors(a.w2v)
    all_train = [s for t in tasks.values() for s in t["train"]]
    wvocab = build_word_vocab(all_train, kv, a.vocab_size)
    cvocab = build_char_vocab(all_train, 1 if a.max_train else 2)
    max_word_len = 20
    for name, t in tasks.items():
        print(f"multitask: {name}: {len(t['train'])} train / {len(t['dev'])} dev sentences, labels {t['labels']}",
              flush=True)
    print(f"multitask: {len(wvocab)} words, {len(cvocab) + 2} chars (shared)", flush=True)

    model = MultiTagger(len(wvocab), len(cvocab) + 2, {n: t["labels"] for n, t in tasks.items()}, a.hidden)
    enc = model.encoder()
    if kv is not None:
        hit = init_word_vectors(enc.wemb, wvocab, kv)
        print(f"multitask: {hit}/{len(wvocab)} words initialised from word2vec", flush=True)
    lm_info = None
    if a.lm_init:
        lm_info = warm_start_encoder(enc, a.lm_init, wvocab, cvocab)
        ws = lm_info["warm_start"]
        print(f"multitask: encoder from {a.lm_init} ({lm_info['epochs']} language-model epochs): "
              f"{ws['words_mapped']}/{ws['words']} words, {ws['chars_mapped']}/{ws['chars']} chars mapped", flush=True)

    device = torch.device(a.device)
    model.to(device)
    for t in tasks.values():
        lmap = {l: i for i, l in enumerate(t["labels"])}
        t["data"] = encode(t["train"], wvocab, cvocab, lmap, max_word_len)
        t["dev_data"] = encode(t["dev"], wvocab, cvocab, lmap, max_word_len)
        t["queue"] = []
    names = list(tasks)
    sizes = [len(tasks[n]["data"]) for n in names]
    weights = [n ** (1.0 / a.temperature) for n in sizes]
    probs = [w / sum(weights) for w in weights]
    steps_per_epoch = sum(math.ceil(n / a.batch_size) for n in sizes)
    print("multitask: sampling (T=%g) %s; %d steps per epoch" % (
        a.temperature, ", ".join(f"{n} {p:.3f}" for n, p in zip(names, probs)), steps_per_epoch), flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    best = {h: (-1.0, None, 0, None, None) for h in exports}  # f1, state, epoch, metrics, all dev f1
    history = []
    step = 0
    for epoch in range(1, a.epochs + 1):
        model.train()
        te = time.time()
        loss_sum = {n: [0.0, 0] for n in names}
        for _ in range(steps_per_epoch):
            n = rng.choices(names, weights=probs)[0]
            t = tasks[n]
            if not t["queue"]:
                t["queue"] = bucketed_batches(t["data"], a.batch_size, rng)
            bidx = t["queue"].pop()
            head = model.heads[n]
            W, C, M, Y = batchify([t["data"][i] for i in bidx], word_dropout=0.05, rng=rng)
            W, C, M, Y = W.to(device), C.to(device), M.to(device), Y.to(device)
            loss, _, _ = adaptive_loss(head, head.emissions(W, C, M), Y, M)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            loss_sum[n][0] += float(loss)
            loss_sum[n][1] += 1
            if a.max_steps and step >= a.max_steps:
                break
        train_s = time.time() - te
        td = time.time()
        dev_f1, metrics = {}, {}
        for h in exports:
            t = tasks[h]
            preds = predict(model.heads[h], t["dev_data"], t["labels"], device=device)
            metrics[h] = entity_prf([tags for _, tags in t["dev"]], preds)
            dev_f1[h] = metrics[h]["f1"]
        dev_s = time.time() - td
        alphas = {n: float(torch.sigmoid(model.heads[n].alpha_w)) for n in names}
        history.append({"epoch": epoch, "dev_f1": dev_f1, "a": alphas, "steps": step,
                         "train_seconds": round(train_s, 1), "dev_seconds": round(dev_s, 1)})
        print(f"epoch {epoch}: {step} steps, train {train_s:.1f} s ({train_s / max(1, sum(v[1] for v in loss_sum.values())):.3f} s/step); "
              + "; ".join(f"{n} loss {v[0] / max(1, v[1]):.4f} x{v[1]} a={alphas[n]:.3f}" for n, v in loss_sum.items())
              + f" | dev ({dev_s:.1f} s) F1 " + ", ".join(f"{h} {f:.2f}" for h, f in dev_f1.items())
              + f" [{(time.time() - t0) / 60:.1f} min]", flush=True)
        for h in exports:
            if dev_f1[h] > best[h][0]:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best[h] = (dev_f1[h], state, epoch, metrics[h], dict(dev_f1))
        if a.lr_decay != 1.0:
            for g in opt.param_groups:
                g["lr"] *= a.lr_decay
        if a.max_steps and step >= a.max_steps:
            break
        if (time.time() - t0) / 60 > a.time_budget:
            print(f"multitask: time budget {a.time_budget} min reached after epoch {epoch}", flush=True)
            break

    model.to("cpu")  # the snapshots load onto the cpu model; ONNX export and reference emissions on cpu
    here = os.path.dirname(os.path.abspath(__file__))
    verify_dir = a.verify_dir or os.path.join(here, "work", "verify")
    minutes = round((time.time() - t0) / 60, 1)
    for h, out in exports.items():
        f1, state, ep, m, all_f1 = best[h]
        model.load_state_dict(state)
        model.eval()
        head = model.heads[h]
        t = tasks[h]
        a_final = float(torch.sigmoid(head.alpha_w))
        bname = os.path.basename(os.path.normpath(out))
        print(f"multitask: head {h}: best dev F1 {f1:.2f} at epoch {ep}, a = {a_final:.4f}", flush=True)
        export_bundle(
            model=head, out=out, name=bname, labels=t["labels"], wvocab=wvocab, cvocab=cvocab,
            max_word_len=max_word_len, constraints=constraint_masks(t["labels"]),
            info={
                "recipe": "training/multitask.py", "data": t["data_desc"],
                "dev": t["dev_desc"], "seed": a.seed, "command": a.command, "epochs_run": len(history),
                "best_epoch": ep, "adaptive_loss_a": a_final,
                "history": [{"epoch": r["epoch"], "dev_f1": r["dev_f1"][h], "a": r["a"][h]} for r in history],
                "dev_metrics_python": m, "train_sentences": len(t["train"]), "train_minutes": minutes,
                "lm_pretraining": lm_info,
            },
            sample_batch=batchify(t["dev_data"][:8])[:3],
            verify_out=os.path.join(verify_dir, f"{bname}.json"),
        )
        # Multi-task provenance beside what export_bundle writes (the loader ignores unknown keys).
        mpath = os.path.join(out, "model.json")
        meta = json.load(open(mpath))
        meta["provenance"]["multitask"] = {
            "head": h,
            "corpora": {n: {"labels": tasks[n]["labels"], "train_sentences": len(tasks[n]["train"]),
                            "data": tasks[n]["data_desc"], "dev": tasks[n]["dev_desc"],
                            "sampling_p": round(p_, 4), "final_a": round(float(torch.sigmoid(model.heads[n].alpha_w)), 4)}
                        for n, p_ in zip(names, probs)},
            "sampling": f"temperature {a.temperature}: p_k ~ n_k^(1/T)",
            "selection": "per head: the epoch with this head's best dev F1",
            "dev_f1_at_best_epoch": {k: round(v, 2) for k, v in all_f1.items()},
            "seeds": [a.seed],
            "steps": step,
            "hidden": a.hidden,
            "device": a.device,
        }
        meta["training"]["history_all_heads"] = history
        with open(mpath, "w") as f:
            json.dump(meta, f, indent=2)
        print(f"multitask: head {h} exported to {out}", flush=True)


if __name__ == "__main__":
    main()
