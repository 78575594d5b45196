"""Data loading shared by the tagger recipes (ner.py, multitask.py, keywords via ner.py).

A corpus is its training CoNLL file(s) and a dev file, optionally cut to their first sentences; its
labels are those of the training set, and a dev tag the training set never has is an error (the model
could not predict it). Word vectors come from a gensim KeyedVectors file.
"""
import sys

import torch

from lib.tagger import PAD, label_list
from lib.text import read_conll


def read_train(files, tag_col, bare_type=None, max_train=0):
    """The training sentences of one corpus: its files in order, then the first max_train (0 = all)."""
    train = []
    for f in files:
        train += read_conll(f, tag_col, bare_type)
    return train[:max_train] if max_train else train


def read_dev(path, tag_col, bare_type=None, max_dev=0):
    """The dev sentences of one corpus, the first max_dev (0 = all)."""
    dev = read_conll(path, tag_col, bare_type)
    return dev[:max_dev] if max_dev else dev


def corpus_labels(train, dev, who):
    """The training set's labels; exits naming `who` when a set is empty or dev has a tag train lacks."""
    if not train or not dev:
        sys.exit(f"{who}: empty train ({len(train)}) or dev ({len(dev)}) set")
    labels = label_list(train)
    unknown = sorted({t for _, tags in dev for t in tags if t not in labels})
    if unknown:
        sys.exit(f"{who}: dev tags {unknown} never occur in train; train labels are {labels}")
    return labels


def load_word_vectors(path):
    """gensim KeyedVectors from a .kv file, or None without one (gensim is imported only when needed)."""
    if not path:
        return None
    from gensim.models import KeyedVectors

    return KeyedVectors.load(path)


def init_word_vectors(wemb, wvocab, kv):
    """Copies the vectors of the vocabulary's words that kv has into the embedding; returns how many."""
    hit = 0
    with torch.no_grad():
        for w, i in wvocab.items():
            if w in kv.key_to_index:
                wemb.weight[i] = torch.from_numpy(kv[w].copy())
                hit += 1
        wemb.weight[PAD].zero_()
    return hit
