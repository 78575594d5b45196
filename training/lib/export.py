"""Write a project token-classification bundle (docs/bundle-format.md)."""
import json
import os
import warnings

import torch
import torch.nn as nn


class _Emissions(nn.Module):
    def __init__(self, tagger):
        super().__init__()
        self.t = tagger

    def forward(self, word_ids, char_ids, mask):
        return self.t.emissions(word_ids, char_ids, mask)


def _embeddings_to_fp16(path, param_name):
    """Store the word-embedding table as fp16 with a Cast: halves the bundle, emissions barely move."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    if param_name not in inits:
        return False
    arr = numpy_helper.to_array(inits[param_name]).astype("float16")
    half = numpy_helper.from_array(arr, name=param_name + "_fp16")
    g.initializer.remove(inits[param_name])
    g.initializer.append(half)
    cast = helper.make_node("Cast", [half.name], [param_name], to=onnx.TensorProto.FLOAT, name="cast_wemb_fp16")
    g.node.insert(0, cast)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return True


def tokenizer_json(wvocab):
    specials = [
        {"id": wvocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in ("[PAD]", "[UNK]")
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": specials,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Lowercase"},
                {"type": "Replace", "pattern": {"Regex": "[0-9]"}, "content": "0"},
            ],
        },
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": wvocab, "unk_token": "[UNK]"},
    }


def export_bundle(model, out, name, labels, wvocab, cvocab, max_word_len, constraints, info, sample_batch, verify_out):
    """Writes the bundle; `sample_batch` is (word_ids, char_ids, mask) tensors for the reference emissions.

    The caller batches the sample (ner.batchify), so this module never imports the recipe: lib/ is
    below the recipes and must not import them back.
    """
    os.makedirs(out, exist_ok=True)
    model.eval()
    w = torch.tensor([[2, 3, 4], [5, 6, 0]], dtype=torch.long)
    c = torch.ones(2, 3, 4, dtype=torch.long)
    m = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    onnx_path = os.path.join(out, "model.onnx")
    # The LSTM batch-size warning does not apply: no initial states are exported, ORT takes any B.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
    torch.onnx.export(
        _Emissions(model), (w, c, m), onnx_path, opset_version=13,
        input_names=["word_ids", "char_ids", "mask"], output_names=["emissions"],
        dynamic_axes={"word_ids": {0: "B", 1: "T"}, "char_ids": {0: "B", 1: "T", 2: "C"},
                      "mask": {0: "B", 1: "T"}, "emissions": {0: "B", 1: "T"}},
        do_constant_folding=True,
    )
    _embeddings_to_fp16(onnx_path, "t.wemb.weight")
    ctr, cst = constraints
    crf = {
        # Illegal I-X transitions are baked in as -10000 so any Viterbi gives the recipe's decode.
        "transitions": (model.trans.detach() + ctr).tolist(),
        "start": (model.start.detach() + cst).tolist(),
        "end": model.end.detach().tolist(),
    }
    with open(os.path.join(out, "crf.json"), "w") as f:
        json.dump(crf, f)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(wvocab), f, ensure_ascii=False)
    with open(os.path.join(out, "chars.json"), "w") as f:
        json.dump({"vocab": cvocab, "pad": 0, "unk": 1, "maxWordLength": max_word_len}, f, ensure_ascii=False)
    dm = info.get("dev_metrics_python") or {}
    meta = {
        "format": 1,
        "name": name,
        "task": "token-classification",
        "labels": labels,
        "decoder": "crf",
        "maxLength": 256,
        "inputs": {"words": "word_ids", "chars": "char_ids", "mask": "mask"},
        "outputs": {"emissions": "emissions"},
        "files": {"model": "model.onnx", "tokenizer": "tokenizer.json", "chars": "chars.json", "crf": "crf.json"},
        "provenance": {k: info[k] for k in ("recipe", "data", "dev", "seed", "command") if k in info},
        "training": {k: info[k] for k in ("epochs_run", "best_epoch", "adaptive_loss_a", "history",
                                          "train_sentences", "train_minutes", "steps_run", "best_step",
                                          "stopped_early", "eval_every", "patience", "train_repeat", "averaged",
                                          "lm_pretraining", "encoder_lr_scale", "finetune")
                                         if k in info and (k not in ("averaged", "lm_pretraining", "finetune") or info[k] is not None)
                                         and (k != "encoder_lr_scale" or info[k] != 1.0)},
        "metrics": {"dev": {"precision": round(dm.get("precision", 0), 2), "recall": round(dm.get("recall", 0), 2),
                            "f1": round(dm.get("f1", 0), 2), "source": "training/ner.py (python decode)"}},
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(meta, f, indent=2)
    # Reference emissions for the ONNX-vs-PyTorch check (kept beside, not inside, the bundle).
    W, C, M = sample_batch
    model.eval()  # torch.onnx.export restores the wrapper's (train) mode, which recurses into the tagger
    with torch.no_grad():
        em = model.emissions(W, C, M)
    ref = {"word_ids": W.tolist(), "char_ids": C.tolist(), "mask": M.tolist(), "emissions": em.tolist()}
    os.makedirs(os.path.dirname(os.path.abspath(verify_out)), exist_ok=True)
    with open(verify_out, "w") as f:
        json.dump(ref, f)
