// The document-level NER rules on real abstract text: sentences and tokens come from the engine's own
// splitter and tokenizer; the entities stand for what the tagger predicted (given per test).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balanceBracketsIn } from '../../../../src/models/ner/balanceBrackets.ts';
import { dropGeneNamesIn, foldName, nameLexicon } from '../../../../src/models/ner/dropGeneNames.ts';
import { harmonizeMentionsIn } from '../../../../src/models/ner/harmonizeMentions.ts';
import { joinCodeNamesIn } from '../../../../src/models/ner/joinCodeNames.ts';
import {
  DocumentEditor,
  tokenSpanOf,
  type DocumentSentence,
  type NerDocument,
} from '../../../../src/models/ner/nerDocument.ts';
import { documentOf } from '../../../../src/models/ner/regroupSentences.ts';
import { resolveAbbreviationsIn } from '../../../../src/models/ner/resolveAbbreviations.ts';
import { splitSlashesIn } from '../../../../src/models/ner/splitSlashes.ts';
import { articleSentences } from '../../../../src/text/splitSentences.ts';
import { tokenize } from '../../../../src/text/tokenize.ts';

// A fixed seed keeps CI deterministic.
fc.configureGlobal({ seed: 20261201 });

type Pred = [text: string, type: string, occurrence?: number, score?: number];

/** A document whose predicted entities are the given strings (the n-th occurrence, default 0). */
function docWith(title: string, abstract: string, preds: Pred[]): NerDocument {
  const sentences: DocumentSentence[] = articleSentences({ pmid: '1', title, abstract }).map((s) => {
    const tokens = tokenize(s.text, { style: 'split' });
    return {
      ...s,
      tokens: tokens.map((t) => t.text),
      offsets: tokens.map((t) => [t.start + s.start, t.end + s.start] as [number, number]),
      tags: tokens.map(() => 'O'),
      tagScores: tokens.map(() => 0.9),
      entities: [],
    };
  });
  const doc = documentOf({ pmid: '1', title, abstract }, sentences);
  const ed = new DocumentEditor(doc);
  for (const [text, type, occurrence = 0, score = 0.9] of preds) {
    let at = -1;
    for (let k = 0; k <= occurrence; k++) at = doc.text.indexOf(text, at + 1);
    const span = at >= 0 ? tokenSpanOf(doc, at, at + text.length) : null;
    if (!span) throw new Error(`test setup: "${text}" #${occurrence} is not token-aligned`);
    ed.set(span, type, score);
  }
  return ed.finish();
}

/** The document's mentions as "text/Type" in text order, checking offsets, tags and entities agree. */
function mentions(doc: NerDocument): string[] {
  const out: string[] = [];
  for (const s of doc.sentences) {
    const fromTags: string[] = [];
    s.tags.forEach((t, i) => {
      if (t.startsWith('B-')) fromTags.push(`${s.offsets[i]![0]}`);
    });
    expect(s.entities.map((e) => `${e.start}`)).toEqual(fromTags);
    for (const e of s.entities) {
      expect(e.start).toBe(s.offsets[e.tokenStart]![0]);
      expect(e.end).toBe(s.offsets[e.tokenEnd - 1]![1]);
      out.push(`${doc.text.slice(e.start, e.end)}/${e.type}`);
    }
  }
  return out;
}

const title = 'Cardiotoxicity of doxorubicin in rats';
const abstract =
  'The anthracycline doxorubicin (DOX) causes congestive heart failure (CHF). ' +
  'DOX-treated rats developed CHF within weeks, and DOX levels rose. ' +
  'Prepulse inhibition (PPI) was unchanged, although PPI deficits were reported.';

describe('resolveAbbreviations', () => {
  it('tags every short form with its long form type, also when the long form is the head of a longer mention', () => {
    const doc = docWith(title, abstract, [
      ['doxorubicin', 'Chemical'],
      ['anthracycline doxorubicin', 'Chemical', 0, 0.8],
      ['congestive heart failure', 'Disease'],
      ['DOX', 'Disease', 1],
    ]);
    const { doc: out, counts } = resolveAbbreviationsIn(doc);
    expect(mentions(out)).toEqual([
      'doxorubicin/Chemical',
      'anthracycline doxorubicin/Chemical',
      'DOX/Chemical',
      'congestive heart failure/Disease',
      'CHF/Disease',
      'DOX/Chemical',
      'CHF/Disease',
      'DOX/Chemical',
    ]);
    expect(counts).toEqual({ 'short-form-tagged': 4, 'short-form-retyped': 1 });
    // Scores follow the tags: a token tagged by the rule carries the long form's score (0.8 here).
    const s1 = out.sentences[1]!;
    const dox = s1.tokens.indexOf('DOX');
    expect(s1.tags[dox]).toBe('B-Chemical');
    expect(s1.tagScores[dox]).toBe(0.8);
  });

  it('needs the long form for `exact`, and untags short forms whose long form is no entity', () => {
    const doc = docWith(title, abstract, [
      ['anthracycline doxorubicin', 'Chemical'],
      ['PPI', 'Chemical', 1],
    ]);
    expect(mentions(resolveAbbreviationsIn(doc, { longForm: 'exact' }).doc)).toEqual([
      'anthracycline doxorubicin/Chemical',
    ]);
    expect(mentions(resolveAbbreviationsIn(doc, { untypedLongForm: 'keep', longForm: 'exact' }).doc)).toEqual(
      ['anthracycline doxorubicin/Chemical', 'PPI/Chemical'],
    );
    // `majority`: one of two occurrences tagged is no majority, so both end untagged.
    expect(mentions(resolveAbbreviationsIn(doc, { untypedLongForm: 'majority' }).doc)).toContain(
      'DOX/Chemical',
    );
    expect(mentions(resolveAbbreviationsIn(doc, { untypedLongForm: 'majority' }).doc)).not.toContain(
      'PPI/Chemical',
    );
  });

  it('resolves the singular of a plural short form and single-capital short forms', () => {
    const doc = docWith(
      'NSAIDs and ulcers',
      'Nonsteroidal anti-inflammatory drugs (NSAIDs) cause ulcers. One NSAID was given with testosterone (T). T levels fell.',
      [
        ['Nonsteroidal anti-inflammatory drugs', 'Chemical'],
        ['testosterone', 'Chemical'],
      ],
    );
    expect(mentions(resolveAbbreviationsIn(doc).doc)).toEqual([
      'NSAIDs/Chemical',
      'Nonsteroidal anti-inflammatory drugs/Chemical',
      'NSAIDs/Chemical',
      'NSAID/Chemical',
      'testosterone/Chemical',
      'T/Chemical',
      'T/Chemical',
    ]);
    expect(
      mentions(resolveAbbreviationsIn(doc, { numberVariants: false, minShortFormLength: 2 }).doc),
    ).toEqual([
      'NSAIDs/Chemical',
      'Nonsteroidal anti-inflammatory drugs/Chemical',
      'NSAIDs/Chemical',
      'testosterone/Chemical',
    ]);
  });

  it('leaves a short form inside a longer mention to that mention, and does nothing when disabled', () => {
    const doc = docWith(title, abstract, [
      ['doxorubicin', 'Chemical', 1],
      ['DOX-treated rats', 'Disease'],
    ]);
    expect(mentions(resolveAbbreviationsIn(doc).doc)).toContain('DOX-treated rats/Disease');
    expect(resolveAbbreviationsIn(doc, { enabled: false }).doc).toBe(doc);
  });
});

describe('harmonizeMentions', () => {
  const text =
    'Cocaine and seizures. Cocaine induced seizures in mice. Seizures after cocaine were brief; ' +
    'cocaine was also tested with neuroleptic malignant syndrome drugs. The neuroleptic malignant syndrome persisted.';
  it('votes one type per string (case-insensitively), propagates it to missed occurrences and extends cut ones', () => {
    const doc = docWith('Cocaine and seizures', text.slice('Cocaine and seizures. '.length), [
      ['Cocaine', 'Chemical'],
      ['seizures', 'Disease'],
      ['Cocaine', 'Chemical', 1],
      ['Seizures', 'Chemical'],
      ['seizures', 'Disease', 1],
      ['neuroleptic malignant syndrome', 'Disease'],
      ['malignant syndrome', 'Disease', 1],
    ]);
    const { doc: out, counts } = harmonizeMentionsIn(doc);
    expect(mentions(out)).toEqual([
      'Cocaine/Chemical',
      'seizures/Disease',
      'Cocaine/Chemical',
      'seizures/Disease',
      'Seizures/Disease',
      'cocaine/Chemical',
      'cocaine/Chemical',
      'neuroleptic malignant syndrome/Disease',
      'neuroleptic malignant syndrome/Disease',
    ]);
    expect(counts).toEqual({ retyped: 1, propagated: 2, extended: 1 });
    // Case-sensitive, without propagation: "Seizures" is another string, nothing changes.
    const strict = harmonizeMentionsIn(doc, { ignoreCase: false, propagate: false });
    expect(strict.counts).toEqual({});
    expect(mentions(strict.doc)).toContain('Seizures/Chemical');
  });

  it('lets untagged occurrences vote for no entity, and follows the most confident mention with maxScore', () => {
    const doc = docWith('Lead and anemia', 'Lead was measured. Lead levels and lead exposure were low.', [
      ['Lead', 'Chemical', 1, 0.55],
    ]);
    expect(mentions(harmonizeMentionsIn(doc).doc)).toEqual([]); // the default: untagged: vote
    expect(mentions(harmonizeMentionsIn(doc, { untagged: 'ignore' }).doc)).toEqual([
      'Lead/Chemical',
      'Lead/Chemical',
      'Lead/Chemical',
      'lead/Chemical',
    ]);
    expect(mentions(harmonizeMentionsIn(doc, { untagged: 'ignore', minScore: 0.6 }).doc)).toEqual([
      'Lead/Chemical',
    ]);
    const split = docWith('Ethambutol', 'Ethambutol toxicity. Ethambutol was stopped. Ethambutol helps.', [
      ['Ethambutol', 'Disease', 0, 0.6],
      ['Ethambutol', 'Disease', 1, 0.6],
      ['Ethambutol', 'Chemical', 2, 0.95],
    ]);
    const types = (d: NerDocument): string[] => mentions(d).map((m) => m.split('/')[1]!);
    expect(types(harmonizeMentionsIn(split).doc)).toEqual(['Disease', 'Disease', 'Disease', 'Disease']);
    expect(types(harmonizeMentionsIn(split, { vote: 'maxScore' }).doc)).toEqual([
      'Chemical',
      'Chemical',
      'Chemical',
      'Chemical',
    ]);
  });
});

describe('balanceBrackets', () => {
  const doc = docWith(
    'Binding',
    'The density of L-[3H]nicotine sites and hepatitis B virus (HBV) infection were studied.',
    [
      ['L-[3H', 'Chemical'],
      ['HBV) infection', 'Disease'],
      ['hepatitis B virus', 'Disease'],
    ],
  );
  it('drops mentions with an unbalanced bracket by default', () => {
    const { doc: out, counts } = balanceBracketsIn(doc);
    expect(mentions(out)).toEqual(['hepatitis B virus/Disease']);
    expect(counts).toEqual({ dropped: 2 });
  });
  it('can extend them over the matching bracket to the word boundary instead', () => {
    const { doc: out, counts } = balanceBracketsIn(doc, { unbalanced: 'extend' });
    expect(mentions(out)).toEqual([
      'L-[3H]nicotine/Chemical',
      'hepatitis B virus/Disease',
      '(HBV) infection/Disease',
    ]);
    expect(counts).toEqual({ extended: 2 });
  });
});

describe('splitSlashes', () => {
  const doc = docWith(
    'Lithium and divalproex',
    'Li/DVP and lopinavir/ritonavir were given at 5 mg/kg; A/B and Li / DVP were not, nor was HIV/AIDS.',
    [
      ['Li/DVP', 'Chemical'],
      ['lopinavir/ritonavir', 'Chemical'],
      ['A/B', 'Chemical'],
      ['Li / DVP', 'Chemical'],
      ['HIV/AIDS', 'Disease'],
    ],
  );
  it('splits chemicals joined by a slash into their parts, not single letters or spaced slashes', () => {
    const { doc: out, counts } = splitSlashesIn(doc);
    expect(mentions(out)).toEqual([
      'Li/Chemical',
      'DVP/Chemical',
      'lopinavir/Chemical',
      'ritonavir/Chemical',
      'A/B/Chemical',
      'Li / DVP/Chemical',
      'HIV/AIDS/Disease',
    ]);
    expect(counts).toEqual({ split: 2 });
  });
  it('splits the configured types only, and nothing when disabled', () => {
    expect(mentions(splitSlashesIn(doc, { types: ['Disease'] }).doc)).toContain('HIV/Disease');
    expect(splitSlashesIn(doc, { enabled: false }).doc).toBe(doc);
  });
});

describe('dropGeneNames', () => {
  const doc = docWith(
    'Nrf2 and valproic acid',
    'Nrf2 protects against valproic acid toxicity; Apolipoprotein A-I and heparin were given, and NRF2 rose.',
    [
      ['Nrf2', 'Chemical'],
      ['valproic acid', 'Chemical'],
      ['Apolipoprotein A-I', 'Chemical'],
      ['heparin', 'Chemical'],
      ['NRF2', 'Disease'],
    ],
  );
  // The corpus writes "apolipoprotein A - I" token by token; folding joins it to the abstract's spelling.
  const lexicon = nameLexicon(
    { Chemical: ['nrf2', 'apolipoprotein A - I', 'Ro'], Disease: ['nrf2'] },
    { minLength: 3 },
  );
  it('drops mentions of the configured types whose folded text is a listed name', () => {
    const { doc: out, counts } = dropGeneNamesIn(doc, lexicon);
    expect(mentions(out)).toEqual(['valproic acid/Chemical', 'heparin/Chemical', 'NRF2/Disease']);
    expect(counts).toEqual({ dropped: 2 });
    // every other sentence is returned as it was
    expect(out.sentences.filter((s, i) => s === doc.sentences[i]).length).toBe(doc.sentences.length - 2);
  });
  it('checks only the configured types, each against its own list, and nothing when disabled', () => {
    expect(mentions(dropGeneNamesIn(doc, lexicon, { types: ['Disease'] }).doc)).not.toContain('NRF2/Disease');
    expect(mentions(dropGeneNamesIn(doc, lexicon, { types: ['Disease'] }).doc)).toContain('Nrf2/Chemical');
    expect(dropGeneNamesIn(doc, lexicon, { enabled: false }).doc).toBe(doc);
    expect(dropGeneNamesIn(doc, nameLexicon({})).counts).toEqual({});
  });
  it('folds case, width and spaces alike for names and mentions; short names stay out', () => {
    expect(foldName('Apolipoprotein  A - I')).toBe('apolipoproteina-i');
    expect(foldName('ＮＲＦ２')).toBe('nrf2');
    expect(lexicon.has('Chemical', 'Ro')).toBe(false);
    expect(lexicon.has('Chemical', 'NRF 2')).toBe(true);
    expect(lexicon.has('Gene', 'nrf2')).toBe(false);
  });
});

describe('joinCodeNames', () => {
  const doc = docWith(
    'CB 3717 and Ro15-1788',
    'CB 3717 was given at CB 10 mg/kg with Ro15-1788, RP 67,580 and PARP-1 inhibitors; CB 3717 polyglutamates formed.',
    [
      ['CB', 'Chemical', 1],
      ['CB', 'Chemical', 2],
      ['Ro15', 'Chemical', 1],
      ['RP', 'Chemical'],
      ['PARP', 'Chemical'],
    ],
  );
  it('extends a code-name prefix over its number, not over a dose or a single-digit isoform', () => {
    const { doc: out, counts } = joinCodeNamesIn(doc);
    expect(mentions(out)).toEqual([
      'CB 3717/Chemical',
      'CB/Chemical',
      'Ro15-1788/Chemical',
      'RP 67,580/Chemical',
      'PARP/Chemical',
    ]);
    expect(counts).toEqual({ joined: 3 });
    expect(joinCodeNamesIn(doc, { types: ['Disease'] }).counts).toEqual({});
  });
  it('lets harmonizeMentions carry the joined name to the occurrences the model missed', () => {
    const joined = joinCodeNamesIn(doc).doc;
    // with untagged occurrences out of the vote (with `vote`, one tagged against two untagged loses)
    const carried = harmonizeMentionsIn(joined, { untagged: 'ignore' }).doc;
    expect(mentions(carried).filter((m) => m === 'CB 3717/Chemical')).toHaveLength(3);
  });
});

describe('resolveAbbreviations: long form typed elsewhere', () => {
  it('takes the type of a same-named mention elsewhere when the definition itself was tagged only in part', () => {
    const doc = docWith(
      'Lamotrigine in idiopathic generalized epilepsies',
      'Patients with idiopathic generalized epilepsies (IGE) were treated. IGE persisted.',
      [
        ['idiopathic generalized epilepsies', 'Disease'],
        ['idiopathic', 'Disease', 1],
      ],
    );
    const resolved = (cfg: { longFormElsewhere: boolean }): string[] =>
      mentions(resolveAbbreviationsIn(doc, cfg).doc).filter((m) => m.startsWith('IGE'));
    expect(resolved({ longFormElsewhere: true })).toEqual(['IGE/Disease', 'IGE/Disease']);
    expect(resolved({ longFormElsewhere: false })).toEqual([]);
  });
});

describe('DocumentEditor', () => {
  it('keeps tags, entities, offsets and scores consistent under any sequence of edits', () => {
    const base = docWith(title, abstract, [['congestive heart failure', 'Disease']]);
    const edit = fc.record({
      remove: fc.boolean(),
      sentence: fc.nat(base.sentences.length - 1),
      a: fc.nat(40),
      len: fc.integer({ min: 1, max: 4 }),
      type: fc.constantFrom('Chemical', 'Disease'),
    });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 25 }), (edits) => {
        const ed = new DocumentEditor(base);
        for (const e of edits) {
          const n = base.sentences[e.sentence]!.tokens.length;
          const tokenStart = Math.min(e.a, n - 1);
          const span = { sentence: e.sentence, tokenStart, tokenEnd: Math.min(n, tokenStart + e.len) };
          if (e.remove) ed.remove(span);
          else ed.set(span, e.type, 0.5);
        }
        const out = ed.finish();
        mentions(out); // offsets on token bounds, tags agree with entities
        for (const s of out.sentences) {
          expect(s.tagScores).toHaveLength(s.tokens.length);
          s.entities.forEach((e, i) => {
            if (i > 0) expect(e.tokenStart).toBeGreaterThanOrEqual(s.entities[i - 1]!.tokenEnd);
            for (let k = e.tokenStart; k < e.tokenEnd; k++)
              expect(s.tags[k]).toBe(`${k === e.tokenStart ? 'B' : 'I'}-${e.type}`);
          });
        }
      }),
    );
  });
});
