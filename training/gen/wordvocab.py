"""Word-level tokenizer.json + chars.json writers (docs/bundle-format.md, project token/relation layout).

Private to the relation recipe: same conventions as H6a's NER bundles (Lowercase + digits -> 0 normalizer,
WhitespaceSplit, [PAD]=0, [UNK]=1; chars of the raw word, pad 0, unk 1, truncated to maxWordLength).
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lib.text import normalize_word  # noqa: E402

PAD, UNK = 0, 1
MAX_WORD_LEN = 20


class WordVocab:
    """Word and character vocabularies built from training words only (ids stable for a given input)."""

    def __init__(self, words, min_count=2, max_size=30000, min_char_count=3):
        wc = collections.Counter(normalize_word(w) for w in words)
        kept = [w for w, c in sorted(wc.items(), key=lambda x: (-x[1], x[0])) if c >= min_count][: max_size - 2]
        self.word2id = {"[PAD]": PAD, "[UNK]": UNK}
        for w in kept:
            self.word2id[w] = len(self.word2id)
        cc = collections.Counter(ch for w in words for ch in w[:MAX_WORD_LEN])
        self.char2id = {}
        for ch, c in sorted(cc.items(), key=lambda x: (-x[1], x[0])):
            if c >= min_char_count:
                self.char2id[ch] = len(self.char2id) + 2

    def word_ids(self, words):
        """One id per raw word (normalized as the exported tokenizer does)."""
        return [self.word2id.get(normalize_word(w), UNK) for w in words]

    def char_ids(self, words):
        """Per word, the ids of its first MAX_WORD_LEN raw characters."""
        return [[self.char2id.get(ch, UNK) for ch in w[:MAX_WORD_LEN]] or [UNK] for w in words]

    def tokenizer_json(self):
        """Hugging Face WordLevel tokenizer JSON whose normalizer matches normalize_word."""
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": PAD, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
                {"id": UNK, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
            ],
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
            "model": {"type": "WordLevel", "vocab": self.word2id, "unk_token": "[UNK]"},
        }

    def chars_json(self):
        """chars.json as the runtime reads it."""
        return {"vocab": self.char2id, "pad": PAD, "unk": UNK, "maxWordLength": MAX_WORD_LEN}

    def save(self, outdir):
        """Write tokenizer.json and chars.json into outdir."""
        with open(os.path.join(outdir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False)
        with open(os.path.join(outdir, "chars.json"), "w", encoding="utf-8") as f:
            json.dump(self.chars_json(), f, ensure_ascii=False)
