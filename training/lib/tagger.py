"""BiLSTM-CRF tagger pieces shared by the NER recipes (ner.py, multitask.py).

Word emb + char CNN -> forward/backward LSTMs -> linear emissions; linear-chain CRF with the
BIO constraint; vocabularies, encoding, batching and Viterbi prediction. Moved out of ner.py
unchanged so the multi-task recipe reuses them.
"""
import random
from collections import Counter

import torch
import torch.nn as nn

from lib.text import normalize_word

PAD, UNK = 0, 1
NEG = -10000.0


def seeded(seed, threads):
    """Torch threads and every seed of a tagger run; returns the run's own random.Random(seed)."""
    torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


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
        hf, hb = self.states(word_ids, char_ids, mask)
        return self.out(self.drop(torch.cat([hf, hb], dim=2)))

    def states(self, word_ids, char_ids, mask):
        """The forward and backward LSTM states [B, T, hidden] each (before dropout): hf at i has read
        words 0..i, hb at i words i..n-1 (the language-model pretraining of lib/lmpretrain.py uses them)."""
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
        pos = torch.arange(t, dtype=torch.int64, device=word_ids.device).unsqueeze(0).expand(b, t)
        rev = torch.where(pos < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - pos, pos)
        idx = rev.unsqueeze(2).expand(b, t, x.shape[2])
        hf, _ = self.fwd(x)
        xb = torch.gather(x, 1, idx)
        hb, _ = self.bwd(xb)
        hb = torch.gather(hb, 1, rev.unsqueeze(2).expand(b, t, hb.shape[2]))
        return hf, hb


ENCODER_MODULES = ("wemb", "cemb", "conv", "fwd", "bwd")


def param_groups(model, lr, encoder_scale=1.0):
    """Optimizer parameter groups: the encoder (ENCODER_MODULES: what language-model pretraining trains) at
    lr * encoder_scale, the rest (emission layer, CRF scores, adaptive-loss weight) at lr. One group, in
    model order, when the scale is 1 (the optimizer is then the one of a plain model.parameters() run)."""
    if encoder_scale == 1.0:
        return [{"params": list(model.parameters()), "lr": lr}]
    enc = [p for n, p in model.named_parameters() if n.split(".")[0] in ENCODER_MODULES]
    rest = [p for n, p in model.named_parameters() if n.split(".")[0] not in ENCODER_MODULES]
    return [{"params": enc, "lr": lr * encoder_scale}, {"params": rest, "lr": lr}]


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


def predict(model, data, labels, batch_size=64, device=None):
    model.eval()
    ctr, cst = constraint_masks(labels)
    if device is not None:
        ctr, cst = ctr.to(device), cst.to(device)
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    preds = [None] * len(data)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            W, C, M, _ = batchify([data[i] for i in idx])
            if device is not None:
                W, C, M = W.to(device), C.to(device), M.to(device)
            em = model.emissions(W, C, M)
            paths = viterbi(em, M, model.trans + ctr, model.start + cst, model.end)
            for i, p in zip(idx, paths):
                preds[i] = [labels[k] for k in p]
    return preds


def adaptive_loss(model, em, Y, M):
    """AdaBioBERT's L = a*CE + (1-a)*CRF per token, a = sigmoid(model.alpha_w); returns (loss, ce, crf)."""
    import torch.nn.functional as F

    ntok = M.sum()
    ce = (F.cross_entropy(em.reshape(-1, em.shape[2]), Y.reshape(-1), reduction="none") * M.reshape(-1)).sum() / ntok
    crf = crf_nll(em, Y, M, model.trans, model.start, model.end).sum() / ntok
    alpha = torch.sigmoid(model.alpha_w)
    return alpha * ce + (1 - alpha) * crf, ce, crf


def bucketed_batches(data, batch_size, rng):
    """One shuffled pass in length buckets (chunks of 50 batches sorted by length): less padding."""
    order = list(range(len(data)))
    rng.shuffle(order)
    step = batch_size * 50
    batches = []
    for i in range(0, len(order), step):
        ch = sorted(order[i : i + step], key=lambda k: len(data[k][0]))
        batches += [ch[j : j + batch_size] for j in range(0, len(ch), batch_size)]
    rng.shuffle(batches)
    return batches
