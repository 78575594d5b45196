"""Strict entity P/R/F1 (0-100) with seqeval's default chunking (I- without B- starts a chunk)."""


def _end_of_chunk(prev_tag, tag, prev_type, type_):
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _start_of_chunk(prev_tag, tag, prev_type, type_):
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != type_


def get_entities(seq):
    """seqeval.metrics.sequence_labeling.get_entities for one sentence: [(type, start, end)]."""
    prev_tag, prev_type, begin, chunks = "O", "", 0, []
    for i, chunk in enumerate(list(seq) + ["O"]):
        tag = chunk[0]
        type_ = chunk[1:].split("-", 1)[-1] or "_"
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def _prf(tp, npred, ngold):
    p = 100.0 * tp / npred if npred else 0.0
    r = 100.0 * tp / ngold if ngold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def entity_prf(gold, pred):
    """Micro P/R/F1 over strict chunks, plus per type."""
    if len(gold) != len(pred):
        raise ValueError(f"entity_prf: {len(gold)} gold vs {len(pred)} predicted sentences")
    g, p = set(), set()
    for k, (gs, ps) in enumerate(zip(gold, pred)):
        if len(gs) != len(ps):
            raise ValueError(f"entity_prf: sentence {k} has {len(gs)} gold vs {len(ps)} predicted tags")
        g |= {(k,) + e for e in get_entities(gs)}
        p |= {(k,) + e for e in get_entities(ps)}
    tp = len(g & p)
    P, R, F = _prf(tp, len(p), len(g))
    per = {}
    for ty in sorted({e[1] for e in g | p}):
        gt = {e for e in g if e[1] == ty}
        pt = {e for e in p if e[1] == ty}
        pp, rr, ff = _prf(len(gt & pt), len(pt), len(gt))
        per[ty] = {"precision": pp, "recall": rr, "f1": ff, "support": len(gt)}
    return {"precision": P, "recall": R, "f1": F, "per_type": per}
