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
import sys
import time
from collections import Counter

import torch
import torch.nn as nn

from lib.text import read_conll
from lib.corpus import corpus_labels, init_word_vectors, load_word_vectors, read_dev
from lib.metrics import entity_prf
from lib.export import export_bundle
from lib.lmpretrain import load_encoder, pretrain_lm, read_lm_sentences, save_encoder
from lib.tagger import (  # noqa: F401  (re-exported: keywords.py and older callers use ner.<name>)
    NEG, PAD, UNK, Tagger, adaptive_loss, batchify, bucketed_batches, build_char_vocab, build_word_vocab,
    constraint_masks, crf_nll, encode, label_list, param_groups, predict, seeded, viterbi,
)


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
    p.add_argument("--eval-every", type=int, default=0,
                   help="score dev every N optimizer steps (and at the last step) instead of after every epoch, so "
                        "runs whose epochs differ in length are evaluated at the same steps; 0 = after every epoch")
    p.add_argument("--patience", type=int, default=0,
                   help="stop after this many dev evaluations in a row without a better dev F1 (0 = never)")
    p.add_argument("--train-repeat", type=int, nargs="+", default=None,
                   help="per --train file, how many times its sentences appear in each epoch (e.g. 2 1: the "
                        "first file up-weighted twice against the second); the vocabularies count one copy")
    p.add_argument("--finetune-first", action="store_true",
                   help="after training stops, continue from the selected state on the first --train file alone "
                        "(the gold sentences, after gold + augmentations), with the same evaluations and patience; "
                        "its steps count toward --max-steps and the best state of both stages is exported")
    p.add_argument("--max-train", type=int, default=0, help="use only the first N training sentences")
    p.add_argument("--max-dev", type=int, default=0, help="use only the first N dev sentences")
    p.add_argument("--time-budget", type=float, default=25.0, help="minutes; stop starting epochs after it")
    p.add_argument("--vocab-size", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=1.0, help="multiply the learning rate by this after every epoch (1 = constant)")
    p.add_argument("--hidden", type=int, default=160)
    p.add_argument("--select", choices=["best", "last"], default="best",
                   help="best: keep the epoch with the best dev F1; last: keep the last epoch (training on train + dev, "
                        "where dev F1 cannot select)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--average-last", type=int, default=0,
                   help="also average the weights of the last K epochs (K >= 2) and keep the average when its dev F1 "
                        "beats the selected epoch's (--select best only)")
    p.add_argument("--lm-corpus", nargs="+", default=None,
                   help="unlabeled text (one tokenized sentence per line; *.conll: first column) to pretrain the "
                        "encoder on as forward/backward language models before tagging (lib/lmpretrain.py); "
                        "sentences of --dev are left out")
    p.add_argument("--lm-epochs", type=int, default=1)
    p.add_argument("--lm-minutes", type=float, default=40.0, help="time budget of the language-model pretraining")
    p.add_argument("--lm-max-steps", type=int, default=0)
    p.add_argument("--lm-max-sentences", type=int, default=0, help="use only the first N language-model sentences")
    p.add_argument("--lm-lr", type=float, default=1e-3)
    p.add_argument("--lm-seed", type=int, default=None,
                   help="seed of the language-model stage (default --seed): several tagger seeds on one encoder")
    p.add_argument("--encoder-lr-scale", type=float, default=1.0,
                   help="learning rate of the encoder (word embeddings, char CNN, LSTMs) as a share of --lr; the "
                        "emission layer, CRF and adaptive-loss weight keep --lr (for a pretrained encoder: < 1 "
                        "moves it less from what it learned)")
    p.add_argument("--lm-cache", default=None,
                   help="pretrained encoder file: loaded when its vocabularies are this run's, else trained and saved")
    p.add_argument("--verify-out", default=None,
                   help="where to write reference emissions for the ONNX check (default training/work/verify/<name>.json)")
    p.add_argument("--command", default="", help="command line recorded in model.json provenance")
    p.add_argument("--data-desc", default="", help="data description recorded in provenance")
    a = p.parse_args(argv)

    rng = seeded(a.seed, a.threads)
    t0 = time.time()

    train = []
    per_file = []
    for f in a.train:
        per_file.append(read_conll(f, a.tag_col, a.bare_type))
        train += per_file[-1]
    if a.max_train:
        train = train[: a.max_train]
    if a.train_repeat is not None and (len(a.train_repeat) != len(a.train) or min(a.train_repeat) < 1):
        sys.exit(f"ner: --train-repeat needs one integer >= 1 per --train file ({len(a.train)}), got {a.train_repeat}")
    if a.finetune_first and (len(a.train) < 2 or not a.eval_every or not a.patience or a.select != "best"):
        sys.exit("ner: --finetune-first needs two or more --train files, --eval-every, --patience and --select best")
    if a.train_repeat is not None and a.max_train:
        sys.exit("ner: --train-repeat and --max-train cannot be combined")
    dev = read_dev(a.dev, a.tag_col, a.bare_type, a.max_dev)
    labels = corpus_labels(train, dev, "ner")
    lmap = {l: i for i, l in enumerate(labels)}

    kv = load_word_vectors(a.w2v)
    wvocab = build_word_vocab(train, kv, a.vocab_size)
    cvocab = build_char_vocab(train, 1 if a.max_train else 2)
    max_word_len = 20
    print(f"ner: {len(train)} train / {len(dev)} dev sentences, labels {labels}, "
          f"{len(wvocab)} words, {len(cvocab) + 2} chars", flush=True)

    model = Tagger(len(wvocab), len(cvocab) + 2, len(labels), hidden=a.hidden)
    if kv is not None:
        hit = init_word_vectors(model.wemb, wvocab, kv)
        print(f"ner: {hit}/{len(wvocab)} words initialised from word2vec", flush=True)

    lm_info = None
    if a.lm_corpus:
        lm_seed = a.seed if a.lm_seed is None else a.lm_seed
        cached = (load_encoder(model, a.lm_cache, wvocab, cvocab, a.lm_epochs, seed=lm_seed)
                  if a.lm_cache and os.path.exists(a.lm_cache) else None)
        if cached is not None and cached[0] == "done":
            summary = cached[1]
            print(f"ner: pretrained encoder ({a.lm_epochs} epochs) loaded from {a.lm_cache}", flush=True)
        else:
            lm_sents = read_lm_sentences(a.lm_corpus, exclude=[toks for toks, _ in dev])
            if a.lm_max_sentences:
                lm_sents = lm_sents[: a.lm_max_sentences]
            print(f"ner: language-model pretraining on {len(lm_sents)} sentences", flush=True)

            last = {}

            def keep(state):
                last["state"] = state
                if a.lm_cache:
                    save_encoder(model, a.lm_cache, wvocab, cvocab, resume=state, seed=lm_seed)

            summary = pretrain_lm(model, lm_sents, wvocab, cvocab, max_word_len, hidden=a.hidden, epochs=a.lm_epochs,
                                  lr=a.lm_lr, seed=lm_seed, time_budget=a.lm_minutes, max_steps=a.lm_max_steps,
                                  log=lambda m: print(m, flush=True), on_epoch=keep,
                                  resume=cached[1] if cached is not None else None)
            # the last two path components (corpus/biomed_sentences.txt): no machine-specific prefix
            summary["corpus"] = ["/".join(os.path.abspath(f).split(os.sep)[-2:]) for f in a.lm_corpus]
            summary["seed"] = lm_seed
            if a.lm_cache and not summary["stopped_by_budget"]:
                save_encoder(model, a.lm_cache, wvocab, cvocab, summary=summary, resume=last.get("state"),
                             seed=lm_seed)
        # a cache written before the seed was recorded holds none: it is taken to be this seed's
        lm_info = {**summary, "seed": summary.get("seed", lm_seed)}
        # Reseed: the tagging run is then the same whether the encoder was pretrained here or loaded.
        rng = seeded(a.seed, a.threads)
    if a.train_repeat is not None and any(r != 1 for r in a.train_repeat):
        # Up-weighting by repetition (after the vocabularies, which count one copy): under Adam a loss weight
        # is largely normalized away, a sentence seen r times per epoch is not.
        train = [s for sents, r in zip(per_file, a.train_repeat) for _ in range(r) for s in sents]
        print(f"ner: --train-repeat {a.train_repeat}: {len(train)} training sentences per epoch", flush=True)
    tr_data = encode(train, wvocab, cvocab, lmap, max_word_len)
    dev_data = encode(dev, wvocab, cvocab, lmap, max_word_len)
    dev_gold = [tags for _, tags in dev]
    opt = torch.optim.Adam(param_groups(model, a.lr, a.encoder_lr_scale), lr=a.lr)
    best = (-1.0, None, 0, None)
    step = 0
    history = []
    # Early stopping: evaluations since the best dev F1 so far, the step of the exported state.
    stop = {"since_best": 0, "best_f1": -1.0, "best_step": 0, "early": False}

    def evaluate(epoch):
        nonlocal best
        preds = predict(model, dev_data, labels)
        m = entity_prf(dev_gold, preds)
        a_val = float(torch.sigmoid(model.alpha_w))
        history.append({"epoch": epoch, "step": step, "dev_f1": m["f1"], "a": a_val})
        if m["f1"] > best[0] or a.select == "last":
            best = (m["f1"], {k: v.detach().clone() for k, v in model.state_dict().items()}, epoch, m)
            stop["best_step"] = step
        if m["f1"] > stop["best_f1"]:
            stop["best_f1"], stop["since_best"] = m["f1"], 0
        else:
            stop["since_best"] += 1
            if a.patience and stop["since_best"] >= a.patience:
                stop["early"] = True
        model.train()
        return m, a_val

    # Weights at the end of the last K epochs, for --average-last (K state copies in memory).
    epoch_states = []

    for epoch in range(1, a.epochs + 1):
        model.train()
        # Length buckets with shuffled order: less padding, still a random pass.
        batches = bucketed_batches(tr_data, a.batch_size, rng)
        tot, ce_tot, crf_tot = 0.0, 0.0, 0.0
        for bidx in batches:
            W, C, M, Y = batchify([tr_data[i] for i in bidx], word_dropout=0.05, rng=rng)
            loss, ce, crf = adaptive_loss(model, model.emissions(W, C, M), Y, M)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            tot += float(loss)
            ce_tot += float(ce)
            crf_tot += float(crf)
            last = bool(a.max_steps and step >= a.max_steps)
            if a.eval_every and (step % a.eval_every == 0 or last):
                m, a_val = evaluate(epoch)
                print(f"step {step} (epoch {epoch}): dev P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f} "
                      f"a={a_val:.4f}{' (best)' if stop['best_step'] == step else ''} "
                      f"[{(time.time() - t0) / 60:.1f} min]", flush=True)
                if stop["early"]:
                    break
            if last:
                break
        nb = max(1, len(batches))
        if not a.eval_every:
            m, a_val = evaluate(epoch)
            print(f"epoch {epoch}: loss {tot / nb:.4f} (ce {ce_tot / nb:.4f}, crf/token {crf_tot / nb:.4f}) "
                  f"a={a_val:.4f} dev P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f} "
                  f"[{(time.time() - t0) / 60:.1f} min]", flush=True)
        else:
            print(f"epoch {epoch}: loss {tot / nb:.4f} (ce {ce_tot / nb:.4f}, crf/token {crf_tot / nb:.4f}) "
                  f"[{(time.time() - t0) / 60:.1f} min]", flush=True)
        if a.average_last >= 2:
            epoch_states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            del epoch_states[:-a.average_last]
        if a.lr_decay != 1.0:
            for g in opt.param_groups:
                g["lr"] *= a.lr_decay
        if stop["early"]:
            print(f"ner: early stop at step {step}: no better dev F1 in {a.patience} evaluations "
                  f"(best {stop['best_f1']:.2f} at step {stop['best_step']})", flush=True)
            break
        if a.max_steps and step >= a.max_steps:
            break
        if (time.time() - t0) / 60 > a.time_budget:
            print(f"ner: time budget {a.time_budget} min reached after epoch {epoch}", flush=True)
            break
    if a.eval_every and not stop["early"] and history and history[-1]["step"] != step:
        # Epochs or time ran out between two evaluations: the last steps count too.
        m, _ = evaluate(epoch)
        print(f"step {step} (epoch {epoch}, last): dev F1 {m['f1']:.2f}", flush=True)
    finetune = None
    if a.finetune_first and not (a.max_steps and step >= a.max_steps):
        # Second stage: from the selected state, the first training file alone (gold after gold + augmented),
        # a fresh optimizer, the same evaluations; patience counts from the selected F1.
        model.load_state_dict(best[1])
        ft_data = encode(per_file[0], wvocab, cvocab, lmap, max_word_len)
        opt = torch.optim.Adam(param_groups(model, a.lr, a.encoder_lr_scale), lr=a.lr)
        start_step, start_f1 = step, best[0]
        stop.update(since_best=0, best_f1=best[0], early=False)
        ft_epochs = 0
        while not stop["early"] and not (a.max_steps and step >= a.max_steps):
            epoch += 1
            ft_epochs += 1
            model.train()
            for bidx in bucketed_batches(ft_data, a.batch_size, rng):
                W, C, M, Y = batchify([ft_data[i] for i in bidx], word_dropout=0.05, rng=rng)
                loss, _, _ = adaptive_loss(model, model.emissions(W, C, M), Y, M)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                step += 1
                last = bool(a.max_steps and step >= a.max_steps)
                if step % a.eval_every == 0 or last:
                    m, a_val = evaluate(epoch)
                    print(f"step {step} (fine-tune epoch {ft_epochs}): dev F1 {m['f1']:.2f}"
                          f"{' (best)' if stop['best_step'] == step else ''}", flush=True)
                    if stop["early"] or last:
                        break
        finetune = {"start_step": start_step, "steps": step - start_step, "epochs": ft_epochs,
                    "sentences": len(ft_data), "selected_f1_before": start_f1, "best_f1": best[0],
                    "improved": best[0] > start_f1}
        print(f"ner: fine-tune on {a.train[0]}: {step - start_step} steps, dev F1 {start_f1:.2f} -> {best[0]:.2f}"
              f" ({'kept' if finetune['improved'] else 'first stage kept'})", flush=True)
    averaged = None
    if a.average_last >= 2 and len(epoch_states) >= 2 and a.select == "best":
        # Weight averaging of the last epochs (one model, no inference cost): kept only if dev says so.
        avg = {k: (torch.stack([s[k].float() for s in epoch_states]).mean(0).to(v.dtype)
                   if v.is_floating_point() else v)
               for k, v in epoch_states[-1].items()}
        model.load_state_dict(avg)
        preds = predict(model, dev_data, labels)
        m = entity_prf(dev_gold, preds)
        averaged = {"epochs": len(epoch_states), "dev_f1": m["f1"], "kept": m["f1"] > best[0]}
        print(f"ner: average of the last {len(epoch_states)} epochs: dev F1 {m['f1']:.2f} "
              f"({'kept' if averaged['kept'] else 'not kept'}; selected epoch {best[0]:.2f})", flush=True)
        if averaged["kept"]:
            best = (m["f1"], avg, epoch, m)
    f1, state, ep, metrics = best
    model.load_state_dict(state)
    model.eval()
    a_final = float(torch.sigmoid(model.alpha_w))
    print(f"ner: {'best' if a.select == 'best' else 'last'} dev F1 {f1:.2f} at epoch {ep}, a = {a_final:.4f}", flush=True)
    export_bundle(
        model=model, out=a.out, name=a.name, labels=labels, wvocab=wvocab, cvocab=cvocab,
        max_word_len=max_word_len, constraints=constraint_masks(labels),
        info={
            "recipe": "training/ner.py", "data": a.data_desc or " ".join(a.train), "dev": a.dev,
            "seed": a.seed, "command": a.command, "epochs_run": epoch, "best_epoch": ep, "select": a.select,
            "steps_run": step, "best_step": stop["best_step"], "stopped_early": stop["early"],
            "eval_every": a.eval_every, "patience": a.patience, "train_repeat": a.train_repeat, "finetune": finetune,
            "lm_pretraining": lm_info, "encoder_lr_scale": a.encoder_lr_scale, "adaptive_loss_a": a_final, "history": history, "averaged": averaged, "dev_metrics_python": metrics,
            "train_sentences": len(train), "train_minutes": round((time.time() - t0) / 60, 1),
        },
        sample_batch=batchify(dev_data[:8])[:3],
        verify_out=a.verify_out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "verify", f"{a.name}.json"),
    )
    print(f"ner: bundle written to {a.out}", flush=True)


if __name__ == "__main__":
    main()
