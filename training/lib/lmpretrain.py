"""Language-model pretraining of the tagger's encoder on unlabeled text (issue 12, lever 2).

The tagger's forward LSTM reads words 0..i and its backward LSTM words i..n-1 (lib/tagger.py), so
both are language models once given an output layer: the forward state at i predicts word i+1, the
backward state at i predicts word i-1 (TagLM / semi-supervised sequence learning). This trains word
embeddings, char CNN and both LSTMs on unlabeled in-domain sentences with two adaptive-softmax heads
that are thrown away afterwards; the NER recipe then fine-tunes the same encoder on labeled data.
The exported model is unchanged in shape and cost: the gain, if any, is free at inference.

Sentences of the recipe's dev file are left out of the language-model data, so dev keeps measuring
text the encoder never read (as held-out test text is).
"""
import os
import random
import time

import torch
import torch.nn as nn

from lib.tagger import ENCODER_MODULES, UNK, batchify, bucketed_batches, encode
from lib.text import normalize_word, read_conll


def read_lm_sentences(paths, exclude=(), max_len=60):
    """Token lists from text files (one whitespace-tokenized sentence per line) and CoNLL files
    (*.conll: the first column), minus sentences whose normalized tokens equal one in `exclude`,
    deduplicated, sentences under 2 tokens dropped and longer ones cut into max_len-token pieces."""
    drop = {tuple(normalize_word(w) for w in toks) for toks in exclude}
    seen = set()
    out = []
    for p in paths:
        if p.endswith(".conll"):
            sents = [toks for toks, _ in read_conll(p, 1)]
        else:
            with open(p, encoding="utf-8") as f:
                sents = [line.split() for line in f]
        for toks in sents:
            key = tuple(normalize_word(w) for w in toks)
            if len(toks) < 2 or key in drop or key in seen:
                continue
            seen.add(key)
            for i in range(0, len(toks), max_len):
                piece = toks[i : i + max_len]
                if len(piece) >= 2:
                    out.append(piece)
    return out


def _cutoffs(n):
    cuts = [c for c in (2000, 8000) if c < n - 1]
    return cuts or [max(1, n // 2)]


def pretrain_lm(model, sentences, wvocab, cvocab, max_word_len, *, hidden, epochs=1, batch_size=64, lr=1e-3,
                out_vocab=20000, seed, time_budget=30.0, max_steps=0, log=print, resume=None, on_epoch=None):
    """Trains model's encoder (wemb, cemb, conv, fwd, bwd) as forward and backward word language models.

    Targets are word ids below out_vocab (the vocabulary lists training words first, by frequency),
    every other word is the UNK class. Every epoch draws its order, word dropout and dropout from its
    own seed (seed, epoch), so a run resumed after epoch k (`resume`: the state on_epoch was given) is
    the run that went on. on_epoch(state) is called after every epoch with what resume takes.
    Returns a summary dict (sentences, epochs, steps, minutes, perplexities)."""
    n_out = min(out_vocab, len(wvocab))
    heads = nn.ModuleDict({
        "fwd": nn.AdaptiveLogSoftmaxWithLoss(hidden, n_out, cutoffs=_cutoffs(n_out), div_value=4.0),
        "bwd": nn.AdaptiveLogSoftmaxWithLoss(hidden, n_out, cutoffs=_cutoffs(n_out), div_value=4.0),
    })
    params = [p for n, p in model.named_parameters() if n.split(".")[0] in ENCODER_MODULES]
    opt = torch.optim.Adam(params + list(heads.parameters()), lr=lr)
    data = encode([(toks, None) for toks in sentences], wvocab, cvocab, {}, max_word_len)
    t0 = time.time()
    step = 0
    history = []
    first = 1
    minutes_before = 0.0
    if resume is not None:
        heads.load_state_dict(resume["heads"])
        opt.load_state_dict(resume["opt"])
        step, history, first = resume["steps"], list(resume["history"]), resume["epochs_done"] + 1
        minutes_before = resume["minutes"]
        log(f"lm: resuming after epoch {first - 1} (step {step})")
    model.train()
    heads.train()
    done = False
    for epoch in range(first, epochs + 1):
        rng = random.Random(f"lm-{seed}-{epoch}")
        torch.manual_seed(seed * 10007 + epoch)
        batches = bucketed_batches(data, batch_size, rng)
        tot = {"fwd": 0.0, "bwd": 0.0}
        ntok = 0
        for bidx in batches:
            items = [data[i] for i in bidx]
            W, C, M, _ = batchify(items, word_dropout=0.05, rng=rng)
            gold, _, _, _ = batchify(items)
            gold = torch.where(gold >= n_out, torch.full_like(gold, UNK), gold)
            hf, hb = model.states(W, C, M)
            hf, hb = model.drop(hf), model.drop(hb)
            m = M.bool()
            # forward: state i predicts word i+1; backward: state i predicts word i-1.
            mf = m[:, 1:] & m[:, :-1]
            lf = heads["fwd"](hf[:, :-1][mf], gold[:, 1:][mf]).loss
            lb = heads["bwd"](hb[:, 1:][mf], gold[:, :-1][mf]).loss
            loss = (lf + lb) / 2
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params + list(heads.parameters()), 5.0)
            opt.step()
            step += 1
            n = int(mf.sum())
            tot["fwd"] += float(lf) * n
            tot["bwd"] += float(lb) * n
            ntok += n
            if step % 200 == 0:
                log(f"lm: step {step} (epoch {epoch}): ppl fwd {torch.exp(torch.tensor(tot['fwd'] / ntok)):.1f} "
                    f"bwd {torch.exp(torch.tensor(tot['bwd'] / ntok)):.1f} [{(time.time() - t0) / 60:.1f} min]")
            if (max_steps and step >= max_steps) or (time.time() - t0) / 60 > time_budget:
                done = True
                break
        ppl = {k: round(float(torch.exp(torch.tensor(v / max(1, ntok)))), 1) for k, v in tot.items()}
        history.append({"epoch": epoch, "step": step, "ppl_fwd": ppl["fwd"], "ppl_bwd": ppl["bwd"]})
        log(f"lm: epoch {epoch} done at step {step}: ppl fwd {ppl['fwd']} bwd {ppl['bwd']} "
            f"[{(time.time() - t0) / 60:.1f} min]")
        if done:
            break
        if on_epoch is not None:
            on_epoch({"heads": heads.state_dict(), "opt": opt.state_dict(), "steps": step, "history": history,
                      "epochs_done": epoch, "minutes": minutes_before + (time.time() - t0) / 60})
    return {"sentences": len(data), "steps": step, "epochs": history[-1]["epoch"] if history else 0,
            "minutes": round(minutes_before + (time.time() - t0) / 60, 1), "out_vocab": n_out, "history": history,
            "stopped_by_budget": done and not (max_steps and step >= max_steps)}


ENCODER = tuple(f"{m}." for m in ENCODER_MODULES)


def save_encoder(model, path, wvocab, cvocab, summary=None, resume=None, seed=None):
    """The encoder's weights and vocabularies, with the finished run's summary or, mid-run, the state
    pretrain_lm resumes from (written after every epoch, so an interrupted run keeps its epochs), and the
    seed of the language-model run."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if k.startswith(ENCODER)}
    tmp = path + ".tmp"
    torch.save({"state": state, "wvocab": wvocab, "cvocab": cvocab, "summary": summary, "resume": resume,
                "seed": seed}, tmp)
    os.replace(tmp, path)


def load_encoder(model, path, wvocab, cvocab, epochs, seed=None):
    """A saved encoder for this run's vocabularies and seed: ("done", summary) when it finished `epochs`
    epochs, ("resume", state) when it stopped after fewer (the encoder weights are loaded either way), else
    None (other vocabularies, another seed, or more epochs than asked: that run cannot be undone). A cache
    written before seeds were recorded holds none and matches any seed."""
    saved = torch.load(path)
    if saved["wvocab"] != wvocab or saved["cvocab"] != cvocab:
        return None
    if seed is not None and saved.get("seed") is not None and saved["seed"] != seed:
        return None
    if saved.get("summary") is not None and saved["summary"].get("epochs") == epochs:
        model.load_state_dict(saved["state"], strict=False)
        return "done", saved["summary"]
    res = saved.get("resume")
    if res is not None and res["epochs_done"] < epochs:
        model.load_state_dict(saved["state"], strict=False)
        return "resume", res
    return None


def warm_start_encoder(model, path, wvocab, cvocab):
    """Starts model's encoder from a saved language-model encoder (save_encoder) made with other
    vocabularies (e.g. a single-corpus run's, for a multi-task model over several corpora): the char CNN and
    both LSTMs are copied as they are; word and char embedding rows are copied where the string is in both
    vocabularies, every other row keeps its initialisation (word2vec or random). The shapes of the copied
    modules must match (same --hidden). Returns what the card records: the cache's language-model summary
    and seed, and how many words and chars were mapped."""
    saved = torch.load(path)
    summary = saved.get("summary")
    if summary is None:
        raise ValueError(f"{path}: an unfinished language-model run (no summary): finish it with ner.py first")
    st = saved["state"]
    own = model.state_dict()
    with torch.no_grad():
        for k, v in st.items():
            if k.split(".")[0] in ("wemb", "cemb"):
                continue
            if k not in own or own[k].shape != v.shape:
                raise ValueError(f"{path}: {k} has shape {tuple(v.shape)}, this model "
                                 f"{tuple(own[k].shape) if k in own else 'has none'} (same --hidden?)")
            own[k].copy_(v)
        words = chars = 0
        sw, W = saved["wvocab"], st["wemb.weight"]
        for w, i in wvocab.items():
            j = sw.get(w)
            if j is not None and i > 1:  # PAD, UNK keep theirs
                model.wemb.weight[i] = W[j]
                words += 1
        sc, C = saved["cvocab"], st["cemb.weight"]
        model.cemb.weight[1] = C[1]  # the unknown char
        for c, i in cvocab.items():
            j = sc.get(c)
            if j is not None:
                model.cemb.weight[i] = C[j]
                chars += 1
    return {**summary, "seed": saved.get("seed", summary.get("seed")),
            "warm_start": {"cache": os.path.basename(path), "words_mapped": words, "words": len(wvocab) - 2,
                           "chars_mapped": chars, "chars": len(cvocab)}}
