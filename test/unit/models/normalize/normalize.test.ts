import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { envelopes } from '../../../helpers/setup.ts';
import { MemorySink, MemorySource } from '../../../../src/engine/memory.ts';
import { MemoryDeadLetters } from '../../../../src/engine/deadLetters.ts';
import {
  ConceptDictionary,
  entriesFromMentions,
} from '../../../../src/models/normalize/conceptDictionary.ts';
import {
  bagKey,
  coordinatedNames,
  foldCase,
  nameWords,
  normalizeName,
  singular,
  stemWord,
} from '../../../../src/models/normalize/conceptNames.ts';
import {
  createNormalizer,
  loadNormalizer,
  normalizeDocumentMentions,
} from '../../../../src/models/normalize/conceptNormalizer.ts';
import {
  normalizeConcepts,
  type DocumentWithEntities,
} from '../../../../src/models/normalize/normalizeConcepts.ts';
import { ModelError } from '../../../../src/models/errors.ts';

const dict = new ConceptDictionary(
  entriesFromMentions([
    { text: 'puromycin aminonucleoside', type: 'Chemical', id: 'D011692' },
    { text: 'alpha-methyldopa', type: 'Chemical', id: 'D008750' },
    { text: 'tumor necrosis factor', type: 'Chemical', id: 'D014409' },
    { text: 'NSAIDs', type: 'Chemical', id: 'D000894' },
    { text: 'PAN', type: 'Chemical', id: 'D010000' },
    { text: 'breast cancer', type: 'Disease', id: 'D001943' },
    { text: 'hepatitis', type: 'Disease', id: 'D056486' },
    { text: 'seizures', type: 'Disease', id: 'D012640' },
    { text: 'seizures', type: 'Disease', id: 'D012640' },
    { text: 'seizure', type: 'Disease', id: 'D004827' },
    { text: 'anemia', type: 'Disease', id: 'D000740' },
    { text: 'nalozone', type: 'Chemical', id: '-1' },
    { text: 'ovarian cancer', type: 'Disease', id: 'D010051' },
    { text: 'cleft lip', type: 'Disease', id: 'D002971' },
    { text: 'necrosis', type: 'Disease', id: 'D009336' },
    { text: 'epilepsy', type: 'Disease', id: 'D004827' },
    { text: 'hypotension', type: 'Disease', id: 'D007022' },
    { text: 'cleft palate', type: 'Disease', id: 'D002972' },
    {
      text: 'Ocular and auditory toxicity',
      type: 'Disease',
      id: 'D014786|D006311',
      parts: 'Ocular toxicity|auditory toxicity',
    },
  ]),
);
const at = (text: string, type = 'Chemical') => ({ start: 0, end: text.length, text, type });

describe('string normalization', () => {
  it('folds case and Greek letters, splits punctuation and letter/digit runs, makes plurals singular', () => {
    expect(foldCase('TNF-α')).toBe('tnf- alpha');
    expect(normalizeName('α-Methyldopa')).toBe(normalizeName('alpha methyldopa'));
    expect(nameWords('5FU')).toEqual(['5', 'fu']);
    expect(nameWords('5-FU')).toEqual(['5', 'fu']);
    expect(singular('arrhythmias')).toBe('arrhythmia');
    expect(singular('ischemies')).toBe('ischemy');
    expect(singular('diabetes')).toBe('diabetes');
    expect(singular('stenosis')).toBe('stenosis');
    expect(normalizeName('anaemia')).toBe(normalizeName('anemia'));
    expect(bagKey('cancer of the breast')).toBe(bagKey('breast cancer'));
  });

  it('stems adjectives and nouns of one concept to one word, leaving short words alone', () => {
    for (const [a, b] of [
      ['necrotic', 'necrosis'],
      ['epileptic', 'epilepsy'],
      ['hypotensive', 'hypotension'],
      ['toxicity', 'toxic'],
      ['aneurysmal', 'aneurysm'],
      ['edematous', 'edema'],
    ])
      expect(stemWord(a!), `${a} ~ ${b}`).toBe(stemWord(b!));
    expect(stemWord('pain')).toBe('pain');
    expect(stemWord('hepatic')).not.toBe(stemWord('hepatitis'));
  });
});

describe('coordinated (composite) names', () => {
  it('expands a shared head after the conjuncts and shared modifiers before them', () => {
    expect(coordinatedNames('breast and ovarian cancer')).toEqual(['breast cancer', 'ovarian cancer']);
    expect(coordinatedNames('Myoclonic, atonic, and absence seizures')).toEqual([
      'Myoclonic seizures',
      'atonic seizures',
      'absence seizures',
    ]);
    expect(coordinatedNames('cocaine or amphetamine abuse')).toEqual(['cocaine abuse', 'amphetamine abuse']);
    expect(coordinatedNames('cleft lip and palate')).toEqual(['cleft lip', 'cleft palate']);
    expect(coordinatedNames('hematologic/oncologic disorder')).toEqual([
      'hematologic disorder',
      'oncologic disorder',
    ]);
    expect(coordinatedNames('nausea and vomiting')).toEqual(['nausea', 'vomiting']);
  });

  it('is null without a coordinator, with an empty conjunct, or for commas inside a chemical name', () => {
    expect(coordinatedNames('breast cancer')).toBeNull();
    expect(coordinatedNames('2,4-dinitrophenol')).toBeNull();
    expect(coordinatedNames('N,N-dimethylformamide')).toBeNull();
    expect(coordinatedNames('and cancer')).toBeNull();
    expect(coordinatedNames('')).toBeNull();
    expect(coordinatedNames(', and ,')).toBeNull();
    // A list longer than any CDR composite is not read as one.
    expect(
      coordinatedNames(Array.from({ length: 12 }, (_, i) => `x${i}`).join(', ') + ' and y toxicity'),
    ).toBeNull();
  });
});

describe('dictionary lookup', () => {
  it('answers in tiers from exact to similar, each with a lower score', () => {
    expect(dict.lookup('Hepatitis', 'Disease')).toMatchObject({ id: 'D056486', tier: 'exact' });
    expect(dict.lookup('α-methyldopa', 'Chemical')).toMatchObject({ id: 'D008750', tier: 'normalized' });
    expect(dict.lookup('cancer of the breast', 'Disease')).toMatchObject({ id: 'D001943', tier: 'bag' });
    expect(dict.lookup('drug-induced hepatitis', 'Disease')).toMatchObject({ id: 'D056486' });
    expect(dict.lookup('severe chronic anaemias', 'Disease')).toMatchObject({ id: 'D000740' });
    const sim = dict.lookup('puromycin aminonucleozide', 'Chemical')!;
    expect(sim).toMatchObject({ id: 'D011692', tier: 'similar' });
    expect(sim.score).toBeLessThan(dict.lookup('puromycin aminonucleoside', 'Chemical')!.score);
  });

  it('a stem tier meets adjective mentions with noun names, scored below the strict tiers', () => {
    const r = dict.lookup('necrotic', 'Disease')!;
    expect(r).toMatchObject({ id: 'D009336', tier: 'stem' });
    expect(r.score).toBeLessThan(dict.lookup('NECROSIS', 'Disease')!.score);
    expect(dict.lookup('Epileptic', 'Disease')).toMatchObject({ id: 'D004827', tier: 'stem' });
    expect(dict.lookup('hypotensive', 'Disease')).toMatchObject({ id: 'D007022', tier: 'stem' });
  });

  it('the majority id wins an ambiguous name, with a share-reduced score', () => {
    const r = dict.lookup('Seizures.', 'Disease')!;
    expect(r.id).toBe('D012640');
    expect(r.score).toBeLessThan(1);
  });

  it('composite mentions add their parts under the individual ids', () => {
    expect(dict.lookup('auditory toxicity', 'Disease')).toMatchObject({ id: 'D006311', tier: 'exact' });
    expect(dict.lookup('ocular and auditory toxicity', 'Disease')?.id).toBe('D014786|D006311');
  });

  it('a composite name answers only when matched whole, never as a loose (head or similar) candidate', () => {
    // Matched whole (normalized) it gives both ids; its two ids must not leak into near misses.
    expect(dict.lookup('Ocular and auditory toxicities', 'Disease')?.id).toBe('D014786|D006311');
    const loose = dict.lookup('ocular and auditory toxicit', 'Disease');
    expect(loose?.id ?? '').not.toContain('|');
    expect(dict.lookup('severe ocular and auditory toxicity', 'Disease')?.id ?? '').not.toContain('|');
  });

  it('the trigram ranker weighs rare trigrams (TF-IDF): a shared rare stem beats shared common endings', () => {
    const names = [
      'xylazine',
      'pyridine',
      'guanidine',
      'quinidine',
      'pethidine',
      'clonidine',
      'amidine',
      'azidine',
      'oxidine',
      'tolidine',
    ];
    const d = new ConceptDictionary(
      entriesFromMentions(names.map((text, i) => ({ text, type: 'Chemical', id: `D${i}` }))),
    );
    // Plain trigram counts pick tolidine (more shared "-idine" trigrams); the rare "xyl" stem decides here.
    expect(d.lookup('xylidine', 'Chemical')).toMatchObject({ name: 'xylazine', tier: 'similar' });
  });

  it('caches lookups by (type, text), bounded: the same answers, never more than cacheSize kept', () => {
    const small = new ConceptDictionary(dict.entries, { cacheSize: 10 });
    const uncached = new ConceptDictionary(dict.entries, { cacheSize: 0 });
    const names = [
      'hepatitis',
      'puromycin aminonucleosid',
      'qqq',
      ...Array.from({ length: 30 }, (_, i) => `anemia ${i}`),
    ];
    for (const round of [1, 2])
      for (const n of names) {
        expect(small.lookup(n, 'Disease'), `${n} (round ${round})`).toEqual(uncached.lookup(n, 'Disease'));
        expect(small.cachedLookups).toBeLessThanOrEqual(10);
      }
    expect(uncached.cachedLookups).toBe(0);
    // The type is part of the key.
    expect(small.lookup('hepatitis', 'Chemical')?.id).not.toBe('D056486');
  });

  it('the cache drops the least recently used lookup first', () => {
    const d = new ConceptDictionary(dict.entries, { cacheSize: 2 });
    const a = d.lookup('hepatitis', 'Disease');
    const b = d.lookup('anemia', 'Disease');
    expect(d.lookup('hepatitis', 'Disease')).toBe(a); // a hit: hepatitis is now the most recent
    d.lookup('seizure', 'Disease'); // evicts anemia, not hepatitis
    expect(d.cachedLookups).toBe(2);
    expect(d.lookup('hepatitis', 'Disease')).toBe(a);
    const b2 = d.lookup('anemia', 'Disease');
    expect(b2).toEqual(b);
    expect(b2).not.toBe(b); // looked up again
  });

  it('round-trips through its JSON and rejects a malformed file', () => {
    const back = ConceptDictionary.fromJson(JSON.parse(JSON.stringify(dict.toJson())));
    expect(back.lookup('PAN', 'Chemical')?.id).toBe('D010000');
    expect(() => ConceptDictionary.fromJson({ format: 'x' })).toThrow(ModelError);
    expect(() => ConceptDictionary.fromJson({ format: 'bioaug-concept-dictionary', entries: [[1]] })).toThrow(
      /entry 0/,
    );
  });
});

describe('per-abstract normalization', () => {
  it('resolves a short form through its definition in the abstract, over the dictionary abbreviation', () => {
    const text = 'Rats were given puromycin aminonucleoside (PAN). PAN caused proteinuria.';
    const pan = text.lastIndexOf('PAN');
    const res = normalizeDocumentMentions(
      dict,
      text,
      [{ start: pan, end: pan + 3, text: 'PAN', type: 'Chemical' }],
      {
        threshold: 0.5,
      },
    );
    expect(res[0]).toMatchObject({ conceptId: 'D011692', via: 'abbreviation' });
    // Without a definition in the abstract, the dictionary's own entry answers.
    const plain = normalizeDocumentMentions(dict, 'PAN was given.', [at('PAN')], { threshold: 0.5 });
    expect(plain[0]!.conceptId).toBe('D010000');
    const off = normalizeDocumentMentions(
      dict,
      text,
      [{ start: pan, end: pan + 3, text: 'PAN', type: 'Chemical' }],
      {
        threshold: 0.5,
        abbreviations: false,
      },
    );
    expect(off[0]!.conceptId).toBe('D010000');
  });

  it('unknown and unsure mentions get -1; a known -1 name stays -1; empty text scores 0', () => {
    const res = normalizeDocumentMentions(
      dict,
      '',
      [at('zzqxv'), at('nalozone'), at('   '), at('puromycin aminonucleosid')],
      { threshold: 0.99 },
    );
    expect(res.map((r) => r.conceptId)).toEqual(['-1', '-1', '-1', '-1']);
    expect(res[2]!.conceptScore).toBe(0);
    // A lower threshold admits the similar name.
    expect(
      normalizeDocumentMentions(dict, '', [at('puromycin aminonucleosid')], { threshold: 0.5 })[0]!.conceptId,
    ).toBe('D011692');
  });

  it('a coordinated mention the dictionary lacks whole gets the ids of its known parts, joined by |', () => {
    const res = normalizeDocumentMentions(
      dict,
      '',
      [
        at('breast and ovarian cancers', 'Disease'),
        at('cleft lip and palate', 'Disease'),
        at('breast and zzqx cancer', 'Disease'),
      ],
      { threshold: 0.6 },
    );
    expect(res.map((r) => [r.conceptId, r.via])).toEqual([
      ['D001943|D010051', 'composite'],
      ['D002971|D002972', 'composite'],
      ['D001943', 'composite'],
    ]);
    // Known whole, the dictionary's answer stands; switched off, the whole mention is looked up alone.
    expect(
      normalizeDocumentMentions(dict, '', [at('ocular and auditory toxicity', 'Disease')], {
        threshold: 0.6,
      })[0],
    ).toMatchObject({
      conceptId: 'D014786|D006311',
      via: 'exact',
    });
    const off = normalizeDocumentMentions(dict, '', [at('cleft lip and palate', 'Disease')], {
      threshold: 0.6,
      composites: false,
    });
    expect(off[0]!.via).not.toBe('composite');
  });

  it('one normalized name gets one answer per abstract: the most confident, across case and plural', () => {
    // "Ovarian cancers" alone would be a weaker (normalized) answer; "ovarian cancer" is exact.
    const t = normalizeDocumentMentions(
      dict,
      '',
      [at('Ovarian Cancers', 'Disease'), at('ovarian cancer', 'Disease')],
      {
        threshold: 0.5,
      },
    );
    expect(t[0]).toEqual(t[1]);
    expect(t[0]!.via).toBe('exact');
    const off = normalizeDocumentMentions(
      dict,
      '',
      [at('Ovarian Cancers', 'Disease'), at('ovarian cancer', 'Disease')],
      {
        threshold: 0.5,
        consistency: false,
      },
    );
    expect(off[0]!.via).toBe('normalized');
  });

  it('one surface form gets one answer per abstract (the most confident)', () => {
    const text = 'tumour necrosis factor (TNF) ... TNF ... TNF';
    const m = [
      { start: 24, end: 27, text: 'TNF', type: 'Chemical' },
      { start: 33, end: 36, text: 'TNF', type: 'Chemical' },
    ];
    const res = normalizeDocumentMentions(dict, text, m, { threshold: 0.5 });
    expect(res[0]!.conceptId).toBe(res[1]!.conceptId);
  });

  it('bad mentions (no text, a type the dictionary lacks, only punctuation) get -1 and never throw', () => {
    const res = normalizeDocumentMentions(
      dict,
      'Some text.',
      [
        { start: 0, end: 4, text: undefined as unknown as string, type: 'Chemical' },
        at('hepatitis', 'Gene'),
        at('--- / ---', 'Disease'),
        at(' and ', 'Disease'),
        at('hepatitis', 'Disease'),
      ],
      { threshold: 0.5 },
    );
    expect(res.map((r) => r.conceptId)).toEqual(['-1', '-1', '-1', '-1', 'D056486']);
    expect(res.slice(0, 4).every((r) => r.conceptScore < 0.5)).toBe(true);
  });

  it('an abstract with hundreds of mentions is normalized mention for mention', () => {
    const many = Array.from({ length: 600 }, (_, i) => at(i % 2 ? 'hepatitis' : 'qqq unknown', 'Disease'));
    const res = createNormalizer(dict, 0.6).normalize('', many);
    expect(res).toHaveLength(600);
    expect(res.filter((r) => r.conceptId === 'D056486')).toHaveLength(300);
  });
});

describe('normalizeConcepts operator', () => {
  const doc = (pmid: string, text: string, ents: Array<[number, number, string]>): DocumentWithEntities => ({
    pmid,
    text,
    sentences: [{ entities: ents.map(([start, end, type]) => ({ start, end, type })) }],
  });

  it('adds conceptId and conceptScore to every entity, from a bundle made by the recipe', async () => {
    const bundle = join(import.meta.dirname, '../../../fixtures/models/normalize-tiny');
    const text = 'Cisplatin (CDDP) caused renal failure; CDDP and glorbamine.';
    const input = [
      doc('1', text, [
        [0, 9, 'Chemical'],
        [11, 15, 'Chemical'],
        [24, 37, 'Disease'],
        [39, 43, 'Chemical'],
        [48, 58, 'Chemical'],
        [0, 9, 'Gene'],
      ]),
    ];
    const out = await lastValueFrom(
      from(envelopes(input, { keyOf: (v) => v.pmid })).pipe(
        normalizeConcepts({ model: bundle, options: { threshold: 0.6 } }),
        toArray(),
      ),
    );
    const ents = out[0]!.value.sentences[0]!.entities;
    expect(ents.map((e) => e.conceptId)).toEqual(['D002945', 'D002945', 'D051437', 'D002945', '-1', null]);
    expect(ents[0]!.conceptScore).toBeGreaterThan(0.9);
    expect(ents[5]!.conceptScore).toBe(0);
    expect(loadNormalizer(bundle).modelId).toBe('normalize-tiny');
  });

  it('a malformed abstract goes to the dead letters and the stream goes on', async () => {
    const dlq = new MemoryDeadLetters();
    const good = doc('2', 'hepatitis', [[0, 9, 'Disease']]);
    const src = new MemorySource<DocumentWithEntities>(
      'docs',
      [{ pmid: 'bad' } as DocumentWithEntities, good],
      {
        deadLetters: dlq,
      },
    );
    const sink = new MemorySink<unknown>('out');
    await lastValueFrom(
      src
        .open()
        .pipe(normalizeConcepts({ normalizer: createNormalizer(dict, 0.5) }), sink.write(), toArray()),
    );
    expect(sink.items).toHaveLength(1);
    expect(src.failed.map((f) => f.index)).toEqual([0]);
    expect(dlq.records[0]?.failures[0]?.stepId).toBe('normalize-concepts');
  });

  it('a missing bundle fails at build time with the step named', () => {
    expect(() => normalizeConcepts({})).toThrow(/normalize-concepts: needs "model"/);
    expect(() => loadNormalizer('/nonexistent/bundle')).toThrow(/model.json/);
  });
});
