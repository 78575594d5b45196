import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleWithProvenance } from '../../helpers/setup.ts';
import { bundleSawData } from '../../../src/models/bundleProvenance.ts';

const bundle = bundleWithProvenance;
const prov = {
  train: '../shared/data/pubtator/cdr_train.pubtator',
  dev: '../shared/data/pubtator/cdr_dev.pubtator',
};

describe('bundleSawData', () => {
  it('a train+dev dictionary or model saw its dev file; a training-only build only its training file', () => {
    const dict = bundle({ ...prov, dictionary: 'train+dev' });
    const model = bundle({ ...prov, training: 'train+dev' });
    const only = bundle({ ...prov, dictionary: 'train' });
    expect(bundleSawData(dict, '/elsewhere/cdr_dev.pubtator')).toMatch(
      /cdr_dev.pubtator \(train\+dev build\).*not held out/,
    );
    expect(bundleSawData(model, 'cdr_dev.pubtator')).toMatch(/not held out/);
    expect(bundleSawData(only, '../shared/data/pubtator/cdr_dev.pubtator')).toBeNull();
    expect(bundleSawData(only, 'x/cdr_train.pubtator')).toMatch(/\(train build\)/);
    expect(bundleSawData(dict, 'x/other.pubtator')).toBeNull();
  });

  it('an NER bundle names the PubTator files of its texts: a train+dev bc5cdr tagger saw the CDR dev abstracts', () => {
    const ner = { train: 'ner/bc5cdr/all/train.conll', dev: 'ner/bc5cdr/dev.conll' };
    const both = bundle({
      ...ner,
      training: 'train+dev',
      texts: ['pubtator/cdr_train.pubtator', 'pubtator/cdr_dev.pubtator'],
    });
    const only = bundle({ ...ner, training: 'train', texts: ['pubtator/cdr_train.pubtator'] });
    expect(bundleSawData(both, '../shared/data/ner/bc5cdr/dev.conll')).toMatch(/not held out/);
    expect(bundleSawData(both, '../shared/data/pubtator/cdr_dev.pubtator')).toMatch(/train\+dev build/);
    expect(bundleSawData(only, '../shared/data/pubtator/cdr_dev.pubtator')).toBeNull();
    expect(bundleSawData(only, '../shared/data/ner/bc5cdr/dev.conll')).toBeNull();
    expect(bundleSawData(only, 'cdr_train.pubtator')).toMatch(/\(train build\)/);
    // another corpus's dev.conll is not this bundle's
    expect(bundleSawData(both, '../shared/data/ner/ncbi/dev.conll')).toBeNull();
  });

  it('a bundle without model.json or provenance says nothing', () => {
    expect(bundleSawData('/nonexistent/bundle', 'cdr_dev.pubtator')).toBeNull();
    expect(bundleSawData(bundle(undefined), 'cdr_dev.pubtator')).toBeNull();
  });

  it('the shipped bundles name the data they were built from', () => {
    const models = join(import.meta.dirname, '../../../models');
    expect(bundleSawData(join(models, 'normalize-cdr'), 'cdr_train.pubtator')).not.toBeNull();
    expect(bundleSawData(join(models, 'cid-relations'), 'cdr_train.pubtator')).not.toBeNull();
    // ner-bc5cdr: train-only (dev figures held out); ner-ncbi: the ncbi head of the multi-task run
    // (train files of all five corpora, no dev)
    expect(
      bundleSawData(join(models, 'ner-bc5cdr'), '../shared/data/pubtator/cdr_train.pubtator'),
    ).not.toBeNull();
    expect(bundleSawData(join(models, 'ner-bc5cdr'), '../shared/data/pubtator/cdr_dev.pubtator')).toBeNull();
    expect(bundleSawData(join(models, 'ner-bc5cdr'), '../shared/data/ner/bc5cdr/dev.conll')).toBeNull();
    expect(bundleSawData(join(models, 'ner-ncbi'), '../shared/data/ner/ncbi/dev.conll')).toBeNull();
    expect(bundleSawData(join(models, 'ner-ncbi'), '../shared/data/ner/ncbi/all/train.conll')).not.toBeNull();
    expect(bundleSawData(join(models, 'ner-ncbi'), '../shared/data/ner/bc5cdr/all/train.conll')).toMatch(
      /not held out/,
    );
    expect(
      bundleSawData(join(models, 'ner-ncbi'), '../shared/data/pubtator/cdr_train.pubtator'),
    ).not.toBeNull();
    expect(bundleSawData(join(models, 'ner-ncbi'), '../shared/data/pubtator/cdr_dev.pubtator')).toBeNull();
  });
});
