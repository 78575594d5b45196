"""Shrink exported decoders: constant folding stores the tied output projection as a second, transposed copy
of the token embedding. Replace that copy with a Transpose node over the embedding (ORT folds it again in
memory at load time), which saves vocab x d_model floats per decoder file without changing any output."""
import sys

import numpy as np


def dedupe(path):
    """Rewrite path in place; returns the number of bytes saved (0 when nothing was duplicated)."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    arrays = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    embeds = {n: a for n, a in arrays.items() if a.ndim == 2 and a.shape[0] > a.shape[1]}
    saved, drop, new_nodes = 0, set(), []
    for name, a in arrays.items():
        if a.ndim != 2 or a.shape[0] >= a.shape[1]:
            continue
        for en, e in embeds.items():
            if e.shape == a.shape[::-1] and np.array_equal(e.T, a):
                drop.add(name)
                new_nodes.append(helper.make_node("Transpose", [en], [name], perm=[1, 0], name=f"tied_{name}"))
                saved += a.nbytes
                break
    if not drop:
        return 0
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(new_nodes + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return saved


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(f"dedupe_tied: {p}: saved {dedupe(p) / 1e6:.1f} MB")
