// The gene-names recipe on tiny files it is given here (a gene CoNLL file, training and dev abstracts,
// ner-tagging predictions): the lexicon leaves out names the training abstracts annotate with a type,
// the card reports the dev effect, and the engine's stream step loads the bundle and drops the names.
// Broken bundles fail with the file named. Seconds, no shared data needed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { defaultModel } from '../../src/models/modelStepConfig.ts';
import { dropGeneNames, loadNameLexicon } from '../../src/models/ner/dropGeneNames.ts';
import type { NerDocument } from '../../src/models/ner/nerDocument.ts';
import { runTrain } from '../../training/run.ts';
import { envelopes, tempDir } from '../helpers/setup.ts';

const GENES = [
  'Nrf2\tB-GENE',
  'binds\tO',
  'apolipoprotein\tB-GENE',
  'A\tI-GENE',
  '-\tI-GENE',
  'I\tI-GENE',
  'and\tO',
  'heparin\tB-GENE',
  'cofactor\tO',
  'Ro\tB-GENE',
  '.\tO',
  '',
  '',
].join('\n');

// Heparin is a Chemical in the training abstracts, so it stays out of the Chemical list.
const TRAIN = '1|t|Heparin.\n1|a|Heparin was given.\n1\t0\t7\tHeparin\tChemical\tD006493\n\n';
const DEV =
  '2|t|Nrf2 and heparin.\n2|a|Heparin with apolipoprotein A-I.\n2\t9\t16\theparin\tChemical\tD006493\n2\t18\t25\tHeparin\tChemical\tD006493\n\n';

/** One ner-tagging prediction line for abstract 2 with the given [start, end, type] entities. */
function prediction(entities: Array<[number, number, string]>): string {
  const text = 'Nrf2 and heparin. Heparin with apolipoprotein A-I.';
  return JSON.stringify({
    pmid: '2',
    entities: entities.map(([start, end, type]) => ({ start, end, type, text: text.slice(start, end) })),
  });
}

/** A one-sentence NerDocument over `text` (tokens split at spaces) with entities on the given tokens. */
function docOf(text: string, ents: Array<[tokenStart: number, tokenEnd: number, type: string]>): NerDocument {
  const offsets: [number, number][] = [];
  for (const m of text.matchAll(/\S+/g)) offsets.push([m.index, m.index + m[0].length]);
  const tags = offsets.map(() => 'O');
  for (const [a, b, t] of ents) for (let k = a; k < b; k++) tags[k] = `${k === a ? 'B' : 'I'}-${t}`;
  return {
    pmid: '9',
    text,
    sentences: [
      {
        pmid: '9',
        index: 0,
        start: 0,
        end: text.length,
        text,
        tokens: offsets.map(([s, e]) => text.slice(s, e)),
        offsets,
        tags,
        tagScores: offsets.map(() => 0.9),
        entities: ents.map(([a, b, type]) => ({
          start: offsets[a]![0],
          end: offsets[b - 1]![1],
          type,
          score: 0.9,
          tokenStart: a,
          tokenEnd: b,
        })),
      },
    ],
  };
}

describe('training recipe gene-names (smoke) and the dropGeneNames step', () => {
  const dir = tempDir('gene-names-');
  const out = join(dir, 'bundle');

  it('builds the lexicon without the names the training abstracts give that type, and scores the dev effect', async () => {
    writeFileSync(join(dir, 'genes.conll'), GENES);
    writeFileSync(join(dir, 'train.pubtator'), TRAIN);
    writeFileSync(join(dir, 'dev.pubtator'), DEV);
    // Predictions: Nrf2 (false), heparin twice (true), apolipoprotein A-I (false) as Chemical.
    writeFileSync(
      join(dir, 'preds.jsonl'),
      prediction([
        [0, 4, 'Chemical'],
        [9, 16, 'Chemical'],
        [18, 25, 'Chemical'],
        [31, 49, 'Chemical'],
      ]) + '\n',
    );
    await runTrain([
      'gene-names',
      '--genes',
      join(dir, 'genes.conll'),
      '--train',
      join(dir, 'train.pubtator'),
      '--dev',
      join(dir, 'dev.pubtator'),
      '--predictions',
      join(dir, 'preds.jsonl'),
      '--min-length',
      '3',
      '--out',
      out,
    ]);
    const lex = JSON.parse(readFileSync(join(out, 'lexicon.json'), 'utf8')) as {
      names: Record<string, string[]>;
    };
    expect(lex.names.Chemical).toEqual(['apolipoproteina-i', 'nrf2']);
    expect(lex.names.Disease).toEqual(['apolipoproteina-i', 'heparin', 'nrf2']);
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      task: string;
      names: Record<string, number>;
      metrics: {
        dev: Record<string, { before: { precision: number }; after: { precision: number }; dropped: number }>;
      };
    };
    expect(mj.task).toBe('name-lexicon');
    expect(mj.names).toEqual({ Chemical: 2, Disease: 3 });
    expect(mj.metrics.dev.Chemical!.before.precision).toBe(50);
    expect(mj.metrics.dev.Chemical!.after.precision).toBe(100);
    expect(mj.metrics.dev.Chemical!.dropped).toBe(2);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/Dev effect/);
    await expect(runTrain(['gene-names', '--min-length', '0', '--out', out])).rejects.toThrow(
      /--min-length must be a positive integer/,
    );
    await expect(runTrain(['gene-names', '--gene', 'x'])).rejects.toThrow(/valid options: --genes/);
  }, 60_000);

  it('the stream step loads the bundle and drops the listed Chemical names only', async () => {
    const doc = docOf('NRF2 and Heparin with apolipoprotein A-I', [
      [0, 1, 'Chemical'],
      [2, 3, 'Chemical'],
      [4, 6, 'Disease'],
    ]);
    const res = await lastValueFrom(
      from(envelopes([doc], { keyOf: (d) => d.pmid })).pipe(dropGeneNames({ model: out }), toArray()),
    );
    const ents = res[0]!.value.sentences[0]!.entities;
    expect(ents.map((e) => `${doc.text.slice(e.start, e.end)}/${e.type}`)).toEqual([
      'Heparin/Chemical',
      'apolipoprotein A-I/Disease',
    ]);
    expect(res[0]!.value.sentences[0]!.tags).toEqual(['O', 'O', 'B-Chemical', 'O', 'B-Disease', 'I-Disease']);
  });

  it('a missing or broken bundle fails with the file named; off needs no bundle', async () => {
    expect(() => dropGeneNames({})).toThrow(/drop-gene-names: needs "model"/);
    const doc = docOf('Nrf2 rose', [[0, 1, 'Chemical']]);
    const off = await lastValueFrom(
      from(envelopes([doc], { keyOf: (d) => d.pmid })).pipe(dropGeneNames({ enabled: false }), toArray()),
    );
    expect(off[0]!.value).toBe(doc);
    expect(() => loadNameLexicon(join(dir, 'nope'))).toThrow(/nope\/model.json: missing/);
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(
      join(bad, 'model.json'),
      JSON.stringify({ task: 'token-classification', name: 'x', files: {} }),
    );
    expect(() => loadNameLexicon(bad)).toThrow(/not a name-lexicon bundle/);
    writeFileSync(
      join(bad, 'model.json'),
      JSON.stringify({ task: 'name-lexicon', name: 'x', files: { lexicon: 'l.json' } }),
    );
    expect(() => loadNameLexicon(bad)).toThrow(/l.json: missing/);
    writeFileSync(
      join(bad, 'l.json'),
      JSON.stringify({ folding: 'nfkc-lower-nospace', minLength: 4, names: { Chemical: 'nrf2' } }),
    );
    expect(() => loadNameLexicon(bad)).toThrow(/l.json: not a name lexicon/);
  });

  it('the shipped bundle loads and lists protein names, not chemicals of the training abstracts', () => {
    const dirShipped = defaultModel('gene-names');
    expect(existsSync(join(dirShipped, 'README.md'))).toBe(true);
    const lex = loadNameLexicon(dirShipped);
    expect(lex.id).toBe('gene-names');
    expect(lex.has('Chemical', 'Nrf2')).toBe(true);
    expect(lex.has('Chemical', 'antithrombin')).toBe(true);
    // gene names of BC2GM that the CDR training abstracts annotate as Chemical stay out
    expect(lex.has('Chemical', 'vasopressin')).toBe(false);
    expect(lex.has('Chemical', 'angiotensin II')).toBe(false);
    expect(lex.has('Disease', 'vasopressin')).toBe(true);
  });
});
