"""Ensemble of token-classification bundles (project layout) as one bundle: one ONNX graph that runs every
member on the same input and returns the mean of their emissions, and a CRF whose transition, start and end
scores are the members' means. Viterbi on the mean scores finds the tag sequence of the product of the
members' CRF distributions (a product of experts: the sum of the members' path scores, scaled by 1/N), so
the engine decodes the ensemble with its ordinary CRF decoder and loads it with the ordinary loader.

Members must share their label set (any order: the first member's order is kept) and their tokenizer's
normalizer. Their vocabularies may differ: the ensemble's vocabulary is the union (the first member's ids
first), and each member reads its own ids through a Gather from the union ids (unknown to it: its [UNK]).

usage: ensemble.py --member DIR --member DIR [...] --out DIR --name NAME [--command "..."]
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def load_json(path):
    with open(path) as f:
        return json.load(f)


def member_files(d):
    mj = load_json(os.path.join(d, "model.json"))
    if mj.get("task") != "token-classification" or mj.get("decoder") != "crf":
        raise SystemExit(f"ensemble: {d} is not a token-classification bundle with a CRF decoder")
    files = mj["files"]
    return mj, {k: os.path.join(d, v) for k, v in files.items()}


def union_vocab(vocabs):
    """Union of id maps (token -> id), the first map's ids kept; returns (union, remaps)."""
    union = dict(vocabs[0])
    nxt = max(union.values()) + 1
    for v in vocabs[1:]:
        for tok in sorted(v, key=v.get):
            if tok not in union:
                union[tok] = nxt
                nxt += 1
    size = max(union.values()) + 1
    remaps = []
    for v in vocabs:
        r = np.full(size, v.get("[UNK]", 1), dtype=np.int64)
        for tok, i in union.items():
            if tok in v:
                r[i] = v[tok]
        remaps.append(r)
    return union, remaps


def char_vocab_union(chars):
    """Union of chars.json vocabularies (pad and unk ids must agree)."""
    pad, unk = chars[0]["pad"], chars[0]["unk"]
    for c in chars[1:]:
        if c["pad"] != pad or c["unk"] != unk:
            raise SystemExit("ensemble: members' chars.json disagree on the pad/unk ids")
    union = dict(chars[0]["vocab"])
    nxt = max([pad, unk, *union.values()]) + 1
    for c in chars[1:]:
        for ch in sorted(c["vocab"], key=c["vocab"].get):
            if ch not in union:
                union[ch] = nxt
                nxt += 1
    size = nxt
    remaps = []
    for c in chars:
        r = np.full(size, c["unk"], dtype=np.int64)
        r[pad] = pad
        r[unk] = c["unk"]
        for ch, i in union.items():
            if ch in c["vocab"]:
                r[i] = c["vocab"][ch]
        remaps.append(r)
    return union, remaps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--member", action="append", required=True, help="member bundle folder (repeat)")
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--command", default="")
    a = p.parse_args(argv)
    if len(a.member) < 2:
        raise SystemExit("ensemble: give at least two --member bundles")

    metas, files = zip(*(member_files(d) for d in a.member))
    labels = metas[0]["labels"]
    for m, d in zip(metas, a.member):
        if sorted(m["labels"]) != sorted(labels):
            raise SystemExit(f"ensemble: {d} has labels {m['labels']}, the first member {labels}")
    toks = [load_json(f["tokenizer"]) for f in files]
    for t, d in zip(toks[1:], a.member[1:]):
        if t.get("normalizer") != toks[0].get("normalizer") or t.get("pre_tokenizer") != toks[0].get("pre_tokenizer"):
            raise SystemExit(f"ensemble: {d}'s tokenizer normalizes words differently from the first member's")
    chars = [load_json(f["chars"]) for f in files]
    if len({c["maxWordLength"] for c in chars}) != 1:
        raise SystemExit("ensemble: members' chars.json disagree on maxWordLength")
    crfs = [load_json(f["crf"]) for f in files]

    word_union, word_remaps = union_vocab([t["model"]["vocab"] for t in toks])
    char_union, char_remaps = char_vocab_union(chars)
    same_words = all(len(r) == len(word_union) and (r == np.arange(len(r))).all() for r in word_remaps)
    same_chars = all((r == np.arange(len(r))).all() for r in char_remaps)

    inputs_of = metas[0]["inputs"]
    out_name = metas[0]["outputs"]["emissions"]
    nodes, inits, graph_inputs = [], [], None
    emis = []
    for k, (m, f) in enumerate(zip(metas, files)):
        g = onnx.load(f["model"])
        pre = f"m{k}_"
        g = onnx.compose.add_prefix(g, pre)
        gi = {i.name[len(pre):]: i for i in g.graph.input}
        if graph_inputs is None:
            graph_inputs = [helper.make_tensor_value_info(i.name[len(pre):], i.type.tensor_type.elem_type, None)
                            for i in g.graph.input]
            for vi, orig in zip(graph_inputs, g.graph.input):
                vi.type.CopyFrom(orig.type)
        # feed each member's inputs from the shared ones (remapped where its vocabulary differs)
        role = {v: r for r, v in m["inputs"].items()}
        for name in gi:
            shared = inputs_of[role[name]]
            if role[name] == "words" and not same_words:
                t = numpy_helper.from_array(word_remaps[k], f"{pre}word_remap")
                inits.append(t)
                nodes.append(helper.make_node("Gather", [t.name, shared], [pre + name], name=f"{pre}remap_words"))
            elif role[name] == "chars" and not same_chars:
                t = numpy_helper.from_array(char_remaps[k], f"{pre}char_remap")
                inits.append(t)
                nodes.append(helper.make_node("Gather", [t.name, shared], [pre + name], name=f"{pre}remap_chars"))
            else:
                nodes.append(helper.make_node("Identity", [shared], [pre + name], name=f"{pre}in_{name}"))
        nodes.extend(g.graph.node)
        inits.extend(g.graph.initializer)
        e = pre + m["outputs"]["emissions"]
        order = [m["labels"].index(lab) for lab in labels]
        if order != list(range(len(labels))):
            idx = numpy_helper.from_array(np.array(order, dtype=np.int64), f"{pre}label_order")
            inits.append(idx)
            nodes.append(helper.make_node("Gather", [e, idx.name], [e + "_ordered"], axis=2))
            e = e + "_ordered"
        emis.append(e)
        if order != list(range(len(labels))):
            c = crfs[k]
            crfs[k] = {
                "transitions": [[c["transitions"][i][j] for j in order] for i in order],
                "start": [c["start"][i] for i in order],
                "end": [c["end"][i] for i in order],
            }
    nodes.append(helper.make_node("Sum", emis, ["emissions_sum"], name="ensemble_sum"))
    scale = numpy_helper.from_array(np.array(1.0 / len(emis), dtype=np.float32), "ensemble_scale")
    inits.append(scale)
    nodes.append(helper.make_node("Mul", ["emissions_sum", scale.name], [out_name], name="ensemble_mean"))
    out_vi = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["B", "T", len(labels)])
    graph = helper.make_graph(nodes, f"{a.name}", graph_inputs, [out_vi], initializer=inits)
    first = onnx.load(files[0]["model"], load_external_data=False)
    model = helper.make_model(graph, opset_imports=first.opset_import, producer_name="training/ensemble.py")
    model.ir_version = first.ir_version
    onnx.checker.check_model(model)

    os.makedirs(a.out, exist_ok=True)
    onnx.save(model, os.path.join(a.out, "model.onnx"))
    tok = dict(toks[0])
    tok["model"] = dict(tok["model"], vocab=word_union)
    with open(os.path.join(a.out, "tokenizer.json"), "w") as fh:
        json.dump(tok, fh)
    with open(os.path.join(a.out, "chars.json"), "w") as fh:
        json.dump(dict(chars[0], vocab=char_union), fh)
    mean = lambda key: np.mean([np.array(c[key], dtype=np.float64) for c in crfs], axis=0).tolist()
    with open(os.path.join(a.out, "crf.json"), "w") as fh:
        json.dump({"transitions": mean("transitions"), "start": mean("start"), "end": mean("end")}, fh)
    mj = dict(metas[0])
    mj["name"] = a.name
    mj["files"] = {"model": "model.onnx", "tokenizer": "tokenizer.json", "chars": "chars.json", "crf": "crf.json"}
    mj["provenance"] = dict(metas[0].get("provenance", {}), recipe="training/ensemble.py", command=a.command)
    mj["ensemble"] = {
        "method": "mean of the members' emissions and CRF scores (product of experts)",
        "members": [
            {"path": d, "seed": m.get("provenance", {}).get("seed"), "command": m.get("provenance", {}).get("command"),
             "dev_f1": m.get("metrics", {}).get("dev", {}).get("f1"), "training": m.get("provenance", {}).get("training")}
            for d, m in zip(a.member, metas)
        ],
    }
    mj.pop("training", None)
    mj.pop("metrics", None)
    with open(os.path.join(a.out, "model.json"), "w") as fh:
        json.dump(mj, fh, indent=2)
    size = sum(os.path.getsize(os.path.join(a.out, n)) for n in os.listdir(a.out))
    print(f"ensemble: {len(a.member)} members -> {a.out} ({size / 1e6:.2f} MB; words {len(word_union)}"
          f"{'' if same_words else ' (union, remapped)'}, chars {len(char_union)}"
          f"{'' if same_chars else ' (union, remapped)'})", flush=True)


if __name__ == "__main__":
    main()
