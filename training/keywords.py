"""Keyword tagger recipe: the NER recipe (ner.py) on the keywords/ 4th column, labels O/B-KEY/I-KEY.

Keywords are domain phrases that are not gold entities (BioAug's selective masking);
the data writes them as plain B/I, mapped here to B-KEY/I-KEY.
"""
import sys

import ner

if __name__ == "__main__":
    ner.main(["--tag-col", "3", "--bare-type", "KEY"] + sys.argv[1:])
