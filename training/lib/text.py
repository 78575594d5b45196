"""Text normalisation and CoNLL reading shared by the recipes.

The normaliser must match the tokenizer.json normalizer written into bundles
(Lowercase + every digit -> 0), or the runtime would look up different ids.
"""
import re

_DIGIT = re.compile(r"[0-9]")


def normalize_word(w):
    """Lowercase and map ASCII digits to 0 (same as the exported HF normalizer)."""
    return _DIGIT.sub("0", w.lower())


def read_conll(path, tag_col=1, bare_type=None):
    """Read CoNLL (tab or space separated, CRLF, runs of blanks) into [(tokens, tags)].

    tag_col picks the column holding the BIO tag (1 for ner/, 3 for keywords/); bare_type
    turns type-less tags (keywords/ writes plain B and I) into B-<bare_type>/I-<bare_type>.
    Raises ValueError naming the file and line on a malformed row.
    """
    sents, toks, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                if toks:
                    sents.append((toks, tags))
                    toks, tags = [], []
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            if len(cols) <= tag_col:
                raise ValueError(f"{path}:{lineno}: expected at least {tag_col + 1} columns, got {len(cols)}: {line!r}")
            tag = cols[tag_col].strip()
            if bare_type and tag in ("B", "I"):
                tag = f"{tag}-{bare_type}"
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise ValueError(f"{path}:{lineno}: tag {tag!r} is not O, B-X or I-X")
            toks.append(cols[0])
            tags.append(tag)
    if toks:
        sents.append((toks, tags))
    return sents
