"""CID relation classifier: a small MLP over per-pair features (src/models/relations/cidFeatures.ts),
trained on the candidate pairs of the CDR training abstracts, exported to ONNX.

Input: JSON files written by training/cid.ts, {"features": [[...]], "labels": [0/1, ...], "names": [...]}.
The exported graph takes `features` [N, F] float32 and returns `probability` [N] float32; the feature
standardization (training mean and std) is inside the graph, so the engine feeds raw features.
One CPU thread, seeded: the same command gives the same bundle.
"""
import argparse
import json
import random
import sys
import time

import torch
import torch.nn as nn


class CidMlp(nn.Module):
    def __init__(self, n_features, hidden, mean, std, dropout):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden // 2, 1),
        )

    def logits(self, x):
        return self.net((x - self.mean) / self.std).squeeze(-1)

    def forward(self, features):
        return torch.sigmoid(self.logits(features))


def load(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    x = torch.tensor(d["features"], dtype=torch.float32) if d["features"] else torch.zeros((0, len(d["names"])))
    y = torch.tensor(d["labels"], dtype=torch.float32)
    return x, y, d["names"]


def best_f1(p, y):
    """Best pair-level F1 over thresholds (model selection only; the recipe reports document-level F1)."""
    best = 0.0
    for t in [i / 20 for i in range(2, 19)]:
        pred = p >= t
        tp = float((pred & (y > 0.5)).sum())
        fp = float((pred & (y < 0.5)).sum())
        fn = float((~pred & (y > 0.5)).sum())
        f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        best = max(best, f1)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--out", required=True, help="ONNX file to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--log", default="")
    ap.add_argument(
        "--select",
        choices=["best", "last"],
        default="best",
        help="keep the epoch with the best dev pair F1, or the last one (train + dev bundles: --epochs fixed on dev)",
    )
    a = ap.parse_args()
    torch.set_num_threads(1)
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    t0 = time.time()
    xtr, ytr, names = load(a.train)
    xdv, ydv, _ = load(a.dev)
    if xtr.shape[0] == 0 or float(ytr.sum()) == 0:
        sys.exit("cid.py: the training file has no candidate pairs or no positive pair")
    mean = xtr.mean(0)
    std = xtr.std(0).clamp_min(1e-3)
    model = CidMlp(xtr.shape[1], a.hidden, mean.tolist(), std.tolist(), a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=1e-4)
    pos = float(ytr.sum())
    loss_fn = nn.BCEWithLogitsLoss()
    best = (-1.0, None, 0)
    n = xtr.shape[0]
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i : i + a.batch]
            opt.zero_grad()
            loss = loss_fn(model.logits(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        model.eval()
        with torch.no_grad():
            f1 = best_f1(model(xdv), ydv) if xdv.shape[0] else 0.0
        if f1 > best[0] or (a.select == "last" and ep + 1 == a.epochs):
            best = (f1, {k: v.clone() for k, v in model.state_dict().items()}, ep + 1)
        print(f"epoch {ep + 1}: train loss {total / n:.4f} dev pair F1 {100 * f1:.2f}", flush=True)
    model.load_state_dict(best[1])
    model.eval()
    dummy = torch.zeros((2, xtr.shape[1]), dtype=torch.float32)
    torch.onnx.export(
        model,
        (dummy,),
        a.out,
        input_names=["features"],
        output_names=["probability"],
        dynamic_axes={"features": {0: "pairs"}, "probability": {0: "pairs"}},
        opset_version=13,
    )
    summary = {
        "epochs": a.epochs,
        "bestEpoch": best[2],
        "select": a.select,
        "devPairF1": 100 * best[0],
        "trainPairs": n,
        "trainPositives": pos,
        "seconds": time.time() - t0,
        "features": len(names),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if a.log:
        with open(a.log, "w", encoding="utf-8") as f:
            json.dump(summary, f)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
