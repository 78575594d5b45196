"""Train a word-level BiLSTM-CRF tagger with AdaBioBERT's adaptive loss and export a bundle.

L = a*CE + (1-a)*CRF with a = sigmoid(w), w learned (AdaBioBERT). Word embeddings start
from word2vec trained on the in-domain corpus; a char CNN adds spelling features for
rare chemical/disease names. The bundle follows docs/bundle-format.md (project
token-classification layout). Used for NER (ner/<ds>) and, via keywords.py, keywords.
"""
import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F

from lib.text import normalize_word, read_conll
from lib.metrics import entity_prf
from lib.export import export_bundle

PAD, UNK = 0, 1
NEG = -10000.0


def build_word_vocab(train_sents, kv, cap):
    """Train words first (by frequency), then the corpus's most frequent words, up to cap."""
    cnt = Counter(normalize_word(w) for toks, _ in train_sents for w in toks)
    words = ["[PAD]", "[UNK]"]
    seen = set(words)
    for w, _ in cnt.most_common():
        if len(words) >= cap:
            break
        if w not in seen:
            words.append(w)
            seen.add(w)
    if kv is not None:
        for w in kv.index_to_key:
            if len(words) >= cap:
                break
            if w not in seen:
                words.append(w)
                seen.add(w)
    return {w: i for i, w in enumerate(words)}


def build_char_vocab(train_sents, min_count=2):
    cnt = Counter(c for toks, _ in train_sents for w in toks for c in w)
    chars = [c for c, n in sorted(cnt.items(), key=lambda x: (-x[1], x[0])) if n >= min_count]
    return {c: i + 2 for i, c in enumerate(chars)}


def label_list(sents):
    types = sorted({t[2:] for _, tags in sents for t in tags if t != "O"})
    labels = ["O"]
    for ty in types:
        labels += [f"B-{ty}", f"I-{ty}"]
    return labels


class Tagger(nn.Module):
    """Word emb + char CNN -> forward/backward LSTMs -> emissions; CRF parameters alongside.

    The backward LSTM runs on each sentence reversed within its own length, so right
    padding never leaks into real positions (results do not depend on batch shape).
    """

    def __init__(self, n_words, n_chars, n_labels, wdim=128, cdim=32, cfilters=64, hidden=160, dropout=0.5):
        super().__init__()
        self.wemb = nn.Embedding(n_words, wdim, padding_idx=PAD)
        self.cemb = nn.Embedding(n_chars, cdim, padding_idx=PAD)
        self.conv = nn.Conv1d(cdim, cfilters, kernel_size=3, padding=1)
        self.fwd = nn.LSTM(wdim + cfilters, hidden, batch_first=True)
        self.bwd = nn.LSTM(wdim + cfilters, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, n_labels)
        self.trans = nn.Parameter(torch.zeros(n_labels, n_labels))
        self.start = nn.Parameter(torch.zeros(n_labels))
        self.end = nn.Parameter(torch.zeros(n_labels))
        self.alpha_w = nn.Parameter(torch.zeros(()))  # a = sigmoid(alpha_w), starts at 0.5

    def emissions(self, word_ids, char_ids, mask):
        b, t = word_ids.shape
        c = char_ids.shape[2]
        we = self.wemb(word_ids)
        ce = self.cemb(char_ids.reshape(b * t, c)).transpose(1, 2)  # [BT, cdim, C]
        conv = self.conv(ce)  # [BT, F, C]
        cmask = (char_ids.reshape(b * t, 1, c) == PAD).to(conv.dtype) * NEG
        cf = (conv + cmask).max(dim=2).values  # pad chars never win the max
        cf = torch.where(cf < NEG / 2, torch.zeros_like(cf), cf).reshape(b, t, -1)
        x = self.drop(torch.cat([we, cf], dim=2))
        lengths = mask.sum(dim=1).to(torch.int64)  # [B]
        pos = torch.arange(t, dtype=torch.int64).unsqueeze(0).expand(b, t)
        rev = torch.where(pos < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - pos, pos)
        idx = rev.unsqueeze(2).expand(b, t, x.shape[2])
        hf, _ = self.fwd(x)
        xb = torch.gather(x, 1, idx)
        hb, _ = self.bwd(xb)
        hb = torch.gather(hb, 1, rev.unsqueeze(2).expand(b, t, hb.shape[2]))
        h = self.drop(torch.cat([hf, hb], dim=2))
        return self.out(h)


def crf_nll(em, tags, mask, trans, start, end):
    """Negative log-likelihood per sentence of a linear-chain CRF (mask: 1 = real)."""
    b, t, L = em.shape
    m = mask.bool()
    score = start[tags[:, 0]] + em[:, 0].gather(1, tags[:, :1]).squeeze(1)
    alpha = start.unsqueeze(0) + em[:, 0]
    for i in range(1, t):
        mi = m[:, i]
        s = trans[tags[:, i - 1], tags[:, i]] + em[:, i].gather(1, tags[:, i : i + 1]).squeeze(1)
        score = score + s * mi
        nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0) + em[:, i].unsqueeze(1), dim=1)
        alpha = torch.where(mi.unsqueeze(1), nxt, alpha)
    lengths = mask.sum(1).long()
    last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
    score = score + end[last]
    logz = torch.logsumexp(alpha + end.unsqueeze(0), dim=1)
    return logz - score


def viterbi(em, mask, trans, start, end):
    b, t, L = em.shape
    m = mask.bool()
    score = start.unsqueeze(0) + em[:, 0]
    back = []
    for i in range(1, t):
        cand = score.unsqueeze(2) + trans.unsqueeze(0)
        best, arg = cand.max(dim=1)
        nxt = best + em[:, i]
        score = torch.where(m[:, i].unsqueeze(1), nxt, score)
        back.append(arg)
    score = score + end.unsqueeze(0)
    lengths = mask.sum(1).long().tolist()
    out = []
    for k in range(b):
        n = lengths[k]
        y = int(score[k].argmax())
        path = [y]
        for i in range(n - 1, 0, -1):
            y = int(back[i - 1][k, y])
            path.append(y)
        out.append(path[::-1])
    return out


def constraint_masks(labels):
    """Forbid I-X after anything but B-X/I-X, and I-X at the start (same rule as the runtime)."""
    L = len(labels)
    tr = torch.zeros(L, L)
    st = torch.zeros(L)
    for j, lj in enumerate(labels):
        if lj.startswith("I-"):
            st[j] = NEG
            for i, li in enumerate(labels):
                if li[2:] != lj[2:] or li == "O":
                    tr[i, j] = NEG
    return tr, st


def encode(sents, wvocab, cvocab, lmap, max_word_len):
    data = []
    for toks, tags in sents:
        w = [wvocab.get(normalize_word(x), UNK) for x in toks]
        c = [[cvocab.get(ch, UNK) for ch in x[:max_word_len]] or [UNK] for x in toks]
        y = [lmap[t] for t in tags] if tags is not None else None
        data.append((w, c, y))
    return data


def batchify(items, word_dropout=0.0, rng=None):
    b = len(items)
    t = max(len(w) for w, _, _ in items)
    c = max(len(cc) for _, ch, _ in items for cc in ch)
    W = torch.zeros(b, t, dtype=torch.long)
    C = torch.zeros(b, t, c, dtype=torch.long)
    M = torch.zeros(b, t)
    Y = torch.zeros(b, t, dtype=torch.long)
    for i, (w, ch, y) in enumerate(items):
        n = len(w)
        ww = list(w)
        if word_dropout and rng is not None:
            ww = [UNK if rng.random() < word_dropout else x for x in ww]
        W[i, :n] = torch.tensor(ww)
        M[i, :n] = 1
        if y is not None:
            Y[i, :n] = torch.tensor(y)
        for j, cc in enumerate(ch):
            C[i, j, : len(cc)] = torch.tensor(cc)
    return W, C, M, Y


def predict(model, data, labels, batch_size=64):
    model.eval()
    ctr, cst = constraint_masks(labels)
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    preds = [None] * len(data)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            W, C, M, _ = batchify([data[i] for i in idx])
            em = model.emissions(W, C, M)
            paths = viterbi(em, M, model.trans + ctr, model.start + cst, model.end)
            for i, p in zip(idx, paths):
                preds[i] = [labels[k] for k in p]
    return preds


def main(argv=None):
    p = argparse.ArgumentParser(description="BiLSTM-CRF tagger with adaptive CE/CRF loss (AdaBioBERT)")
    p.add_argument("--train", required=True, nargs="+", help="CoNLL file(s)")
    p.add_argument("--dev", required=True)
    p.add_argument("--tag-col", type=int, default=1, help="0-based column of the BIO tag")
    p.add_argument("--bare-type", default=None, help="type for tags written as plain B/I (keywords: KEY)")
    p.add_argument("--w2v", default=None, help="gensim KeyedVectors (.kv) for initial word vectors")
    p.add_argument("--out", required=True, help="bundle directory to write")
    p.add_argument("--name", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (smoke tests)")
    p.add_argument("--max-train", type=int, default=0, help="use only the first N training sentences")
    p.add_argument("--max-dev", type=int, default=0, help="use only the first N dev sentences")
    p.add_argument("--time-budget", type=float, default=25.0, help="minutes; stop starting epochs after it")
    p.add_argument("--vocab-size", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=1.0, help="multiply the learning rate by this after every epoch (1 = constant)")
    p.add_argument("--hidden", type=int, default=160)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--verify-out", default=None,
                   help="where to write reference emissions for the ONNX check (default training/work/verify/<name>.json)")
    p.add_argument("--command", default="", help="command line recorded in model.json provenance")
    p.add_argument("--data-desc", default="", help="data description recorded in provenance")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    t0 = time.time()

    train = []
    for f in a.train:
        train += read_conll(f, a.tag_col, a.bare_type)
    if a.max_train:
        train = train[: a.max_train]
    dev = read_conll(a.dev, a.tag_col, a.bare_type)
    if a.max_dev:
        dev = dev[: a.max_dev]
    if not train or not dev:
        sys.exit(f"ner: empty train ({len(train)}) or dev ({len(dev)}) set")
    labels = label_list(train)
    unknown = sorted({t for _, tags in dev for t in tags if t not in labels})
    if unknown:
        sys.exit(f"ner: dev tags {unknown} never occur in train; train labels are {labels}")
    lmap = {l: i for i, l in enumerate(labels)}

    kv = None
    if a.w2v:
        from gensim.models import KeyedVectors

        kv = KeyedVectors.load(a.w2v)
    wvocab = build_word_vocab(train, kv, a.vocab_size)
    cvocab = build_char_vocab(train, 1 if a.max_train else 2)
    max_word_len = 20
    print(f"ner: {len(train)} train / {len(dev)} dev sentences, labels {labels}, "
          f"{len(wvocab)} words, {len(cvocab) + 2} chars", flush=True)

    model = Tagger(len(wvocab), len(cvocab) + 2, len(labels), hidden=a.hidden)
    if kv is not None:
        hit = 0
        with torch.no_grad():
            for w, i in wvocab.items():
                if w in kv.key_to_index:
                    model.wemb.weight[i] = torch.from_numpy(kv[w].copy())
                    hit += 1
            model.wemb.weight[PAD].zero_()
        print(f"ner: {hit}/{len(wvocab)} words initialised from word2vec", flush=True)

    tr_data = encode(train, wvocab, cvocab, lmap, max_word_len)
    dev_data = encode(dev, wvocab, cvocab, lmap, max_word_len)
    dev_gold = [tags for _, tags in dev]
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    best = (-1.0, None, 0, None)
    step = 0
    history = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        # Length buckets with shuffled order: less padding, still a random pass.
        order = list(range(len(tr_data)))
        rng.shuffle(order)
        chunks = [order[i : i + a.batch_size * 50] for i in range(0, len(order), a.batch_size * 50)]
        batches = []
        for ch in chunks:
            ch = sorted(ch, key=lambda i: len(tr_data[i][0]))
            batches += [ch[i : i + a.batch_size] for i in range(0, len(ch), a.batch_size)]
        rng.shuffle(batches)
        tot, ce_tot, crf_tot = 0.0, 0.0, 0.0
        for bidx in batches:
            W, C, M, Y = batchify([tr_data[i] for i in bidx], word_dropout=0.05, rng=rng)
            em = model.emissions(W, C, M)
            ntok = M.sum()
            ce = (F.cross_entropy(em.reshape(-1, em.shape[2]), Y.reshape(-1), reduction="none") * M.reshape(-1)).sum() / ntok
            crf = crf_nll(em, Y, M, model.trans, model.start, model.end).sum() / ntok
            alpha = torch.sigmoid(model.alpha_w)
            loss = alpha * ce + (1 - alpha) * crf
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            tot += float(loss)
            ce_tot += float(ce)
            crf_tot += float(crf)
            if a.max_steps and step >= a.max_steps:
                break
        preds = predict(model, dev_data, labels)
        m = entity_prf(dev_gold, preds)
        a_val = float(torch.sigmoid(model.alpha_w))
        nb = max(1, len(batches))
        history.append({"epoch": epoch, "dev_f1": m["f1"], "a": a_val})
        print(f"epoch {epoch}: loss {tot / nb:.4f} (ce {ce_tot / nb:.4f}, crf/token {crf_tot / nb:.4f}) "
              f"a={a_val:.4f} dev P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f} "
              f"[{(time.time() - t0) / 60:.1f} min]", flush=True)
        if m["f1"] > best[0]:
            best = (m["f1"], {k: v.detach().clone() for k, v in model.state_dict().items()}, epoch, m)
        if a.lr_decay != 1.0:
            for g in opt.param_groups:
                g["lr"] *= a.lr_decay
        if a.max_steps and step >= a.max_steps:
            break
        if (time.time() - t0) / 60 > a.time_budget:
            print(f"ner: time budget {a.time_budget} min reached after epoch {epoch}", flush=True)
            break
    f1, state, ep, metrics = best
    model.load_state_dict(state)
    model.eval()
    a_final = float(torch.sigmoid(model.alpha_w))
    print(f"ner: best dev F1 {f1:.2f} at epoch {ep}, a = {a_final:.4f}", flush=True)
    export_bundle(
        model=model, out=a.out, name=a.name, labels=labels, wvocab=wvocab, cvocab=cvocab,
        max_word_len=max_word_len, constraints=constraint_masks(labels),
        info={
            "recipe": "training/ner.py", "data": a.data_desc or " ".join(a.train), "dev": a.dev,
            "seed": a.seed, "command": a.command, "epochs_run": len(history), "best_epoch": ep,
            "adaptive_loss_a": a_final, "history": history, "dev_metrics_python": metrics,
            "train_sentences": len(train), "train_minutes": round((time.time() - t0) / 60, 1),
        },
        sample_batch=batchify(dev_data[:8])[:3],
        verify_out=a.verify_out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "verify", f"{a.name}.json"),
    )
    print(f"ner: bundle written to {a.out}", flush=True)


if __name__ == "__main__":
    main()
