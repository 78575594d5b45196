"""BioAug generator: denoising pretraining + fine-tuning of the small BART (training/common/bart.py).

Stages (each resumable from its checkpoint in --work):
  tokenizer  SentencePiece unigram on the corpus -> tokenizer.json (training/spm_tokenizer.py)
  pretrain   BART text infilling on corpus/biomed_sentences.txt: word spans (Poisson lengths) replaced by one
             <mask> each, ~35% of words masked; the model rebuilds the sentence. Word-level spans mirror BioAug's
             corruption (whole words kept or masked), so fine-tuning starts close to its task.
  finetune   {input, target} JSONL pairs written by the TypeScript `training-pairs` command (corruption has
             one implementation); dev pairs give the reported reconstruction loss.
  export     Optimum ONNX layout (export_optimum) + tokenizer.json + model.json + generation_config.json.
Training is bounded by wall-clock minutes per stage (one CPU thread), so a run fits its budget on any machine;
steps, losses and time are logged and written to model.json.
"""
import argparse
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from spm_tokenizer import LABEL_TOKENS, MASK, GenTokenizer, main as spm_main  # noqa: E402


def data_root():
    """$BIOSTREAM_DATA, else ../shared/data from the project root (same rule as src/io/dataPath.ts)."""
    return os.environ.get("BIOSTREAM_DATA") or os.path.join(os.path.dirname(HERE), "..", "shared", "data")


def log(msg):
    print(f"generator: {msg}", flush=True)


def infill(words, rng, ratio=0.35, lam=3.0):
    """BART text infilling over words: spans with Poisson(lam) lengths, each replaced by a single <mask>."""
    n = len(words)
    budget = max(1, int(round(n * ratio)))
    masked = [False] * n
    tries = 0
    while budget > 0 and tries < 4 * n:
        tries += 1
        # Knuth's Poisson sampler: the rng stays a plain random.Random (seeded, injectable)
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                break
            k += 1
        k = max(1, min(k, budget))
        start = rng.randrange(0, n)
        for i in range(start, min(n, start + k)):
            if not masked[i]:
                masked[i] = True
                budget -= 1
    out, prev = [], False
    for w, m in zip(words, masked):
        if m:
            if not prev:
                out.append(MASK)
            prev = True
        else:
            out.append(w)
            prev = False
    return " ".join(out)


def load_corpus(path, tok, max_len, max_lines=0, seed=1):
    """Tokenized corpus sentences (as word lists) whose encoding fits max_len pieces."""
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if max_lines and i >= max_lines:
                break
            words = line.split()
            if len(words) < 4:
                continue
            if len(tok.encode(line, add_eos=True)) > max_len:
                continue
            out.append(words)
    random.Random(seed).shuffle(out)
    return out


def load_pairs(path, tok, max_len):
    """Encoded (input, target) pairs from training-pairs JSONL; a malformed line is an error naming it."""
    out, skipped = [], 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                src, tgt = rec["input"], rec["target"]
            except (ValueError, KeyError) as e:
                raise ValueError(f"generator: {path}:{lineno}: expected JSON with input and target ({e})") from e
            x, y = tok.encode(src), tok.encode(tgt)
            if len(x) > max_len or len(y) > max_len:
                skipped += 1
                continue
            out.append((x, y))
    log(f"{path}: {len(out)} pairs ({skipped} longer than {max_len} pieces left out)")
    return out


def batches(pairs, max_tokens, rng):
    """Length-bucketed batches (padding cut) in a shuffled order."""
    idx = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]) + len(pairs[i][1]), rng.random()))
    out, cur, width = [], [], 0
    for i in idx:
        w = max(width, len(pairs[i][0]), len(pairs[i][1]))
        if cur and w * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, w = [], max(len(pairs[i][0]), len(pairs[i][1]))
        cur.append(i)
        width = w
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(items, pad):
    """Pad (input, target) id lists into input_ids, attention_mask, labels (-100 on padding)."""
    import torch

    s = max(len(x) for x, _ in items)
    t = max(len(y) for _, y in items)
    ids = torch.full((len(items), s), pad, dtype=torch.long)
    mask = torch.zeros(len(items), s, dtype=torch.long)
    labels = torch.full((len(items), t), -100, dtype=torch.long)
    for r, (x, y) in enumerate(items):
        ids[r, : len(x)] = torch.tensor(x)
        mask[r, : len(x)] = 1
        labels[r, : len(y)] = torch.tensor(y)
    return ids, mask, labels


def dev_loss(model, pairs, pad, start, max_tokens=4096):
    """Mean token cross-entropy (no smoothing) of the targets given the inputs."""
    import torch

    from common.bart import shift_tokens_right

    model.eval()
    device = next(model.parameters()).device
    tot, n = 0.0, 0
    with torch.no_grad():
        for b in batches(pairs, max_tokens, random.Random(0)):
            ids, mask, labels = (t.to(device) for t in collate([pairs[i] for i in b], pad))
            logits, _ = model(ids, mask, shift_tokens_right(labels, pad, start))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, reduction="sum")
            tot += float(loss)
            n += int((labels != -100).sum())
    model.train()
    return tot / max(n, 1)


def train_stage(name, model, make_epoch, dev, a, minutes, max_steps, lr, ckpt):
    """Train until the time or step budget runs out; checkpoint every --ckpt-every steps; returns a summary."""
    import torch

    from common.bart import shift_tokens_right

    c = model.config
    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    state = {"step": 0, "seconds": 0.0, "losses": []}
    if os.path.isfile(ckpt) and not a.restart:
        saved = torch.load(ckpt, map_location=device)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        log(f"{name}: resumed from {ckpt} at step {state['step']} ({state['seconds']:.0f}s)")
    if state.get("done"):
        return state
    warmup = a.warmup
    t0 = time.time() - state["seconds"]
    rng = random.Random(a.seed + state["step"])
    run, nrun = 0.0, 0
    done = False
    while not done:
        for items in make_epoch(rng):
            elapsed = time.time() - t0
            if (max_steps and state["step"] >= max_steps) or elapsed > minutes * 60:
                done = True
                break
            step = state["step"]
            # linear warmup, then inverse-sqrt decay: no schedule length needed under a time budget
            for g in opt.param_groups:
                g["lr"] = lr * min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))
            ids, mask, labels = (t.to(device) for t in collate(items, c.pad_token_id))
            _, loss = model(ids, mask, shift_tokens_right(labels, c.pad_token_id, c.decoder_start_token_id), labels, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            run += float(loss)
            nrun += 1
            if state["step"] % a.log_every == 0:
                state["losses"].append([state["step"], round(run / nrun, 4)])
                log(f"{name}: step {state['step']} train loss {run / nrun:.4f} lr {opt.param_groups[0]['lr']:.2e} ({elapsed:.0f}s)")
                run, nrun = 0.0, 0
            if state["step"] % a.ckpt_every == 0:
                state["seconds"] = time.time() - t0
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)
    state["seconds"] = time.time() - t0
    if dev:
        state["devLoss"] = round(dev_loss(model, dev, c.pad_token_id, c.decoder_start_token_id), 4)
        log(f"{name}: dev loss {state['devLoss']} after {state['step']} steps")
    state["done"] = True
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)
    return state


def main(argv=None):
    p = argparse.ArgumentParser(description="BioAug generator: denoising pretraining + fine-tuning, Optimum export")
    p.add_argument("--data", default=None, help="shared data root (default $BIOSTREAM_DATA or ../shared/data)")
    p.add_argument("--corpus", default=None, help="pretraining text, one tokenized sentence a line (default corpus/biomed_sentences.txt)")
    p.add_argument("--train-pairs", default=None, help="fine-tuning JSONL from `bioaug-stream training-pairs`")
    p.add_argument("--dev-pairs", default=None, help="dev JSONL for the reported reconstruction loss")
    p.add_argument("--work", default=os.path.join(HERE, "work", "gen"), help="checkpoints and tokenizer")
    p.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "models", "generator"))
    p.add_argument("--stages", default="tokenizer,pretrain,finetune,export")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=512)
    p.add_argument("--max-len", type=int, default=96, help="longest corpus sentence in pieces used for pretraining")
    p.add_argument("--ft-max-len", type=int, default=128, help="longest fine-tuning input/target in pieces")
    p.add_argument("--pretrain-minutes", type=float, default=25)
    p.add_argument("--finetune-minutes", type=float, default=20)
    p.add_argument("--max-steps", type=int, default=0, help="per-stage step cap (smoke tests)")
    p.add_argument("--max-lines", type=int, default=0, help="use the first N corpus lines only (smoke tests)")
    p.add_argument("--max-tokens", type=int, default=3072, help="padded tokens per batch")
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--ft-lr", type=float, default=7e-4)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--ckpt-every", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="torch device to train on: cpu (default), cuda, cuda:1, ...; export runs on the CPU")
    p.add_argument("--restart", action="store_true", help="ignore existing checkpoints")
    p.add_argument("--reference", action="store_true", help="also write reference.json (PyTorch greedy ids) for parity tests")
    a = p.parse_args(argv)
    valid = ["tokenizer", "pretrain", "finetune", "export"]
    stages = [s for s in a.stages.split(",") if s]
    for s in stages:
        if s not in valid:
            sys.exit(f"generator: unknown stage {s!r} (valid: {', '.join(valid)})")

    import torch

    from common.bart import Bart, BartConfig, export_optimum

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"generator: --device {a.device}, but this torch ({torch.__version__}) sees no CUDA device; use --device cpu or a CUDA build of torch")
    device = torch.device(a.device)
    root = a.data or data_root()
    corpus = a.corpus or os.path.join(root, "corpus", "biomed_sentences.txt")
    os.makedirs(a.work, exist_ok=True)
    tokdir = os.path.join(a.work, "tok")
    if "tokenizer" in stages:
        args = ["--corpus", corpus, "--out", tokdir, "--vocab-size", str(a.vocab_size)]
        spm_main(args + (["--max-lines", str(a.max_lines)] if a.max_lines else []))
    spm_model = os.path.join(tokdir, "spm.model")
    if not os.path.isfile(spm_model):
        sys.exit(f"generator: {spm_model} missing: run the tokenizer stage first")
    tok = GenTokenizer(spm_model)
    cfg = BartConfig(
        vocab_size=tok.vocab_size,
        d_model=a.d_model,
        encoder_layers=a.layers,
        decoder_layers=a.layers,
        encoder_attention_heads=a.heads,
        decoder_attention_heads=a.heads,
        encoder_ffn_dim=a.ffn,
        decoder_ffn_dim=a.ffn,
        max_position_embeddings=256,
        pad_token_id=tok.pad_id,
        bos_token_id=tok.bos_id,
        eos_token_id=tok.eos_id,
        decoder_start_token_id=tok.eos_id,
    )
    model = Bart(cfg).to(device)
    with open(os.path.join(a.work, "config.json"), "w") as f:
        json.dump(cfg.to_hf_config(), f, indent=1)
    summary_path = os.path.join(a.work, "summary.json")
    summary = json.load(open(summary_path)) if os.path.isfile(summary_path) and not a.restart else {}

    if "pretrain" in stages:
        sents = load_corpus(corpus, tok, a.max_len, a.max_lines, a.seed)
        ndev = min(500, max(4, len(sents) // 50))
        dev_words, train_words = sents[:ndev], sents[ndev:]
        drng = random.Random(a.seed + 7)
        dev = [(tok.encode(infill(w, drng)), tok.encode(" ".join(w))) for w in dev_words]
        log(f"pretrain: {len(train_words)} sentences, {len(dev)} held out; {sum(p.numel() for p in model.parameters())} parameters")

        def pre_epoch(rng):
            # fresh masks every epoch; chunks of 20k sentences keep memory bounded and encoding cheap
            order = list(range(len(train_words)))
            rng.shuffle(order)
            for k in range(0, len(order), 20000):
                chunk = [(tok.encode(infill(train_words[i], rng)), tok.encode(" ".join(train_words[i]))) for i in order[k : k + 20000]]
                for b in batches(chunk, a.max_tokens, rng):
                    yield [chunk[i] for i in b]

        st = train_stage("pretrain", model, pre_epoch, dev, a, a.pretrain_minutes, a.max_steps, a.lr, os.path.join(a.work, "pretrain.pt"))
        summary["pretrain"] = {k: st.get(k) for k in ("step", "seconds", "devLoss")}
        summary["pretrain"]["lossCurve"] = st["losses"][-20:]
        summary["pretrain"]["device"] = a.device
    elif os.path.isfile(os.path.join(a.work, "pretrain.pt")):
        saved = torch.load(os.path.join(a.work, "pretrain.pt"), map_location=device)
        model.load_state_dict(saved["model"])
        st = saved["state"]
        summary["pretrain"] = {k: st.get(k) for k in ("step", "seconds", "devLoss")}
        summary["pretrain"]["lossCurve"] = st["losses"][-20:]

    if "finetune" in stages:
        if not a.train_pairs:
            sys.exit("generator: finetune needs --train-pairs (write them with `bioaug-stream training-pairs`)")
        train = load_pairs(a.train_pairs, tok, a.ft_max_len)
        dev = load_pairs(a.dev_pairs, tok, a.ft_max_len) if a.dev_pairs else []
        if not train:
            sys.exit(f"generator: {a.train_pairs} holds no usable pairs")

        def ft_epoch(rng):
            for b in batches(train, a.max_tokens, rng):
                yield [train[i] for i in b]

        st = train_stage("finetune", model, ft_epoch, dev, a, a.finetune_minutes, a.max_steps, a.ft_lr, os.path.join(a.work, "finetune.pt"))
        summary["finetune"] = {k: st.get(k) for k in ("step", "seconds", "devLoss")}
        summary["finetune"]["lossCurve"] = st["losses"][-20:]
        summary["finetune"]["trainPairs"] = len(train)
        summary["finetune"]["devPairs"] = len(dev)
        summary["finetune"]["device"] = a.device
    elif os.path.isfile(os.path.join(a.work, "finetune.pt")):
        model.load_state_dict(torch.load(os.path.join(a.work, "finetune.pt"), map_location=device)["model"])
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=1)

    if "export" in stages:
        # The ONNX export and the PyTorch reference run on the CPU, where the engine runs the bundle.
        model = model.cpu()
        os.makedirs(a.out, exist_ok=True)
        export_optimum(model, a.out)
        from gen.dedupe_tied import dedupe

        for f in ("decoder_model.onnx", "decoder_with_past_model.onnx"):
            log(f"{f}: tied output projection deduplicated ({dedupe(os.path.join(a.out, f)) / 1e6:.1f} MB saved)")
        with open(os.path.join(tokdir, "tokenizer.json"), encoding="utf-8") as f:
            tj = f.read()
        with open(os.path.join(a.out, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(tj)
        gc = {
            "bos_token_id": cfg.bos_token_id,
            "eos_token_id": cfg.eos_token_id,
            "pad_token_id": cfg.pad_token_id,
            "decoder_start_token_id": cfg.decoder_start_token_id,
            "forced_eos_token_id": cfg.eos_token_id,
            "max_new_tokens": 128,
            "do_sample": True,
            "top_k": 10,
            "num_beams": 1,
            "num_return_sequences": 5,
        }
        with open(os.path.join(a.out, "generation_config.json"), "w") as f:
            json.dump(gc, f, indent=2)
        mj = {
            "format": 1,
            "name": "generator",
            "task": "seq2seq",
            "maxLength": 256,
            "labelTokens": LABEL_TOKENS,
            "maskToken": MASK,
            "separatorToken": "</s>",
            "files": {
                "encoder": "encoder_model.onnx",
                "decoder": "decoder_model.onnx",
                "decoderWithPast": "decoder_with_past_model.onnx",
                "tokenizer": "tokenizer.json",
                "config": "config.json",
                "generationConfig": "generation_config.json",
            },
            "provenance": {
                "recipe": "training/generator.py",
                "data": "corpus/biomed_sentences.txt (pretraining); training-pairs JSONL (fine-tuning)",
                "trainPairs": a.train_pairs and os.path.basename(a.train_pairs),
                "seed": a.seed,
                "command": "npm run train -- generator",
                "threads": a.threads,
                "device": a.device,
            },
            "training": summary,
            "metrics": {"dev": {"reconstructionLoss": summary.get("finetune", {}).get("devLoss")}},
        }
        with open(os.path.join(a.out, "model.json"), "w", encoding="utf-8") as f:
            json.dump(mj, f, indent=1)
        if a.reference:
            from common.bart import reference_greedy

            refs = []
            for text in ["<mask> <b-disease> cancer <b-disease> <mask> .", "<mask> in <mask> cells <mask>"]:
                ids = tok.encode(text)
                out, score = reference_greedy(model, ids, 24)
                refs.append({"input": text, "inputIds": ids, "greedyIds": out, "score": score})
            with open(os.path.join(a.out, "reference.json"), "w", encoding="utf-8") as f:
                json.dump({"items": refs}, f)
        log(f"exported -> {a.out}")


if __name__ == "__main__":
    main()
