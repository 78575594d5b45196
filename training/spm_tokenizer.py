"""Train the generator's SentencePiece unigram vocabulary and write it as a Hugging Face tokenizer.json.

Ids follow BART's convention (<s>=0, <pad>=1, </s>=2, <unk>=3) so the exported config matches what
Optimum-style runtimes expect. Label tokens and <mask> are kept OUT of the SentencePiece model and appended
as added special tokens (lstrip/rstrip) instead: then the Python side (split on specials, SentencePiece per
segment) and the node side (@huggingface/tokenizers) cut the text identically, which a user-defined symbol
inside SentencePiece would not guarantee (it leaves a stray "▁" piece before each symbol).
"""
import argparse
import json
import os
import re
import sys

# Every entity type of the five corpora, lowercased, as BioAug's label tokens; "out" because the engine
# linearizes EBM-NLP's O (outcome) type as <b-out>/<i-out> so it cannot be read as the O tag.
ENTITY_TYPES = ["chemical", "disease", "gene", "protein", "dna", "rna", "cell_line", "cell_type", "p", "i", "o", "out"]
LABEL_TOKENS = [f"<{bi}-{t}>" for t in ENTITY_TYPES for bi in ("b", "i")]
MASK = "<mask>"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def train_spm(corpus, out_prefix, vocab_size, seed_sentences=0):
    """Train a unigram SentencePiece model on a one-sentence-per-line corpus; returns the .model path."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=corpus,
        model_prefix=out_prefix,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=0.9995,
        # identity normalisation: the HF JSON then needs no precompiled charsmap to match exactly
        normalization_rule_name="identity",
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        input_sentence_size=seed_sentences or 0,
        shuffle_input_sentence=True,
        num_threads=1,
        max_sentence_length=8192,
        minloglevel=2,
    )
    return out_prefix + ".model"


def to_hf_json(model_path, extra_tokens):
    """Convert a SentencePiece unigram model to a tokenizers JSON (Unigram + Metaspace) with added specials."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model_path)
    vocab = [[sp.id_to_piece(i), float(sp.get_score(i))] for i in range(sp.get_piece_size())]
    for i, s in enumerate(SPECIALS):
        if sp.id_to_piece(i) != s:
            raise ValueError(f"spm_tokenizer: expected {s!r} at id {i}, got {sp.id_to_piece(i)!r}")
        vocab[i][1] = 0.0
    added = []
    for i, s in enumerate(SPECIALS):
        added.append(
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        )
    base = len(vocab)
    for k, tok in enumerate(extra_tokens):
        vocab.append([tok, 0.0])
        # lstrip/rstrip swallow the spaces around a label token, as the Python encoder strips each segment
        added.append(
            {"id": base + k, "content": tok, "single_word": False, "lstrip": True, "rstrip": True, "normalized": False, "special": True}
        )
    # </s> separates sentence and knowledge inside the input text, so it must strip like the label tokens
    added[2]["lstrip"] = True
    added[2]["rstrip"] = True
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        # "<" -> "▁<" before Metaspace: label tokens decode with spaces around them, so a whitespace split of
        # the decoded text (delinearize) sees `<b-disease> colorectal <b-disease>` and not `colorectal<b-disease>`
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "<"}, "content": "\u2581<"},
                {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            ],
        },
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
    }


class GenTokenizer:
    """Python twin of the exported tokenizer.json: split out special tokens, SentencePiece each segment."""

    def __init__(self, model_path, extra_tokens=None):
        import sentencepiece as spm

        self.sp = spm.SentencePieceProcessor(model_file=model_path)
        self.base = self.sp.get_piece_size()
        self.extra = list(extra_tokens if extra_tokens is not None else LABEL_TOKENS + [MASK])
        self.special_ids = {s: i for i, s in enumerate(SPECIALS)}
        for k, t in enumerate(self.extra):
            self.special_ids[t] = self.base + k
        self.id_to_tok = {v: k for k, v in self.special_ids.items()}
        alts = sorted([s for s in self.special_ids], key=len, reverse=True)
        self.split_re = re.compile("(" + "|".join(re.escape(s) for s in alts) + ")")
        self.vocab_size = self.base + len(self.extra)
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = 1, 0, 2, 3
        self.mask_id = self.special_ids[MASK]

    def encode(self, text, add_eos=True):
        """Ids for text; label tokens, <mask> and </s> map to their own ids."""
        ids = []
        for part in self.split_re.split(text):
            if not part:
                continue
            if part in self.special_ids:
                ids.append(self.special_ids[part])
                continue
            seg = part.strip()
            if seg:
                ids.extend(self.sp.encode(seg))
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids):
        """Text for ids, keeping label tokens and <mask> (specials <s>/<pad>/</s> dropped)."""
        out, run = [], []
        for i in ids:
            if i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            if i in self.id_to_tok:
                if run:
                    out.append(self.sp.decode(run))
                    run = []
                out.append(self.id_to_tok[i])
            else:
                run.append(i)
        if run:
            out.append(self.sp.decode(run))
        return " ".join(s.strip() for s in out if s.strip())


def main(argv=None):
    p = argparse.ArgumentParser(description="SentencePiece unigram vocabulary for the BioAug generator")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="output folder: spm.model, tokenizer.json")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--max-lines", type=int, default=0, help="train on the first N lines only (smoke tests)")
    a = p.parse_args(argv)
    if not os.path.isfile(a.corpus):
        sys.exit(f"spm_tokenizer: corpus {a.corpus} not found")
    os.makedirs(a.out, exist_ok=True)
    corpus = a.corpus
    if a.max_lines:
        corpus = os.path.join(a.out, "corpus.head.txt")
        with open(a.corpus, encoding="utf-8") as f, open(corpus, "w", encoding="utf-8") as g:
            for i, line in enumerate(f):
                if i >= a.max_lines:
                    break
                g.write(line)
    model = train_spm(corpus, os.path.join(a.out, "spm"), a.vocab_size)
    tj = to_hf_json(model, LABEL_TOKENS + [MASK])
    with open(os.path.join(a.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    print(f"spm_tokenizer: {len(tj['model']['vocab'])} pieces -> {a.out}/tokenizer.json", flush=True)


if __name__ == "__main__":
    main()
