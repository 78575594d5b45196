import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { splitPubtatorFile } from '../../../src/cli/commands/split.ts';
import { AckToken, envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { parsePubtator, pubtatorText } from '../../../src/text/pubtator.ts';
import { sentenceSpans, splitArticle, TextInputError } from '../../../src/text/sentences.ts';
import { splitSentences, type ArticleLike } from '../../../src/text/splitSentences.ts';

const texts = (t: string, o = {}): string[] => sentenceSpans(t, o).map((s) => s.text);

describe('sentenceSpans: regression cases modelled on PubMed abstracts', () => {
  it.each([
    [
      'citations and et al.',
      'Samples were processed as described by Smith et al. (2001). Results agreed with earlier work.',
      ['Samples were processed as described by Smith et al. (2001).', 'Results agreed with earlier work.'],
    ],
    [
      'species names',
      'Growth of E. coli and S. aureus was inhibited by the extract. The effect was dose dependent.',
      ['Growth of E. coli and S. aureus was inhibited by the extract.', 'The effect was dose dependent.'],
    ],
    [
      'Latin and figure abbreviations',
      'Cells were primed (e.g. with TNF-alpha) for 2 h. Expression rose approx. 3-fold vs. controls, i.e. more than expected. See Fig. 2 for details.',
      [
        'Cells were primed (e.g. with TNF-alpha) for 2 h.',
        'Expression rose approx. 3-fold vs. controls, i.e. more than expected.',
        'See Fig. 2 for details.',
      ],
    ],
    [
      'decimals, units and (n = 19)',
      'The mean age was 54.3 years (n = 19). Levels fell by 12.5% at 2.5 mg/kg. Values ranged from 0.5 to 1.5.',
      [
        'The mean age was 54.3 years (n = 19).',
        'Levels fell by 12.5% at 2.5 mg/kg.',
        'Values ranged from 0.5 to 1.5.',
      ],
    ],
    [
      'structured headings',
      'BACKGROUND: Asthma is common. METHODS: We enrolled 40 adults. RESULTS: Symptoms improved. CONCLUSIONS: The drug helps.',
      [
        'BACKGROUND: Asthma is common.',
        'METHODS: We enrolled 40 adults.',
        'RESULTS: Symptoms improved.',
        'CONCLUSIONS: The drug helps.',
      ],
    ],
    [
      'heading after a section without a final period',
      'OBJECTIVE: To assess the safety of the vaccine MATERIALS AND METHODS: A randomized trial was run.',
      [
        'OBJECTIVE: To assess the safety of the vaccine',
        'MATERIALS AND METHODS: A randomized trial was run.',
      ],
    ],
    [
      'compound heading with &',
      'BACKGROUND & AIMS: Infection causes colitis. We studied mice.',
      ['BACKGROUND & AIMS: Infection causes colitis.', 'We studied mice.'],
    ],
    [
      'periods inside balanced brackets',
      'The receptor (see below. It is also in ref. 4) binds the ligand. It is active.',
      ['The receptor (see below. It is also in ref. 4) binds the ligand.', 'It is active.'],
    ],
    [
      'an unbalanced open bracket does not swallow the text',
      'Patients (n = 12 were enrolled. Outcomes improved.',
      ['Patients (n = 12 were enrolled.', 'Outcomes improved.'],
    ],
    [
      'parenthetical ending in an abbreviation mid-sentence',
      'After suppression (1 mg at 11 p.m.) Type I receptors fell. They recovered.',
      ['After suppression (1 mg at 11 p.m.) Type I receptors fell.', 'They recovered.'],
    ],
    [
      'gene names open sentences in lower case',
      'Binding was lost in cells lacking NF-kappa B. p53 levels, however, rose. c-myc mRNA was stable after 24 h. alpha 4 integrins were not.',
      [
        'Binding was lost in cells lacking NF-kappa B.',
        'p53 levels, however, rose.',
        'c-myc mRNA was stable after 24 h.',
        'alpha 4 integrins were not.',
      ],
    ],
    [
      'a single capital before a sentence is not an initial',
      'The effect required protein kinase C. However, it was weak.',
      ['The effect required protein kinase C.', 'However, it was weak.'],
    ],
    [
      'author initials in a citation',
      'This agrees with data (W.Q. Jiang, L. Szekely, and A. Rosen, unpublished). The model holds.',
      ['This agrees with data (W.Q. Jiang, L. Szekely, and A. Rosen, unpublished).', 'The model holds.'],
    ],
    [
      'enumerations',
      'Two steps followed: 1. Cells were washed. 2. Buffer was added.',
      ['Two steps followed: 1. Cells were washed.', '2. Buffer was added.'],
    ],
    [
      'acronyms that look like abbreviations',
      'Sweat chloride was high in CF. Because of this, MR. imaging was done. It helped.',
      ['Sweat chloride was high in CF.', 'Because of this, MR. imaging was done.', 'It helped.'],
    ],
    [
      'question and exclamation marks',
      'Does the drug work? Yes! It clearly does.',
      ['Does the drug work?', 'Yes!', 'It clearly does.'],
    ],
    [
      'closing quotes stay with their sentence',
      'They named it "death domain." Another domain was found.',
      ['They named it "death domain."', 'Another domain was found.'],
    ],
    [
      'an ellipsis inside a sequence',
      'The core CTTGG ... CCAAG binds the factor.',
      ['The core CTTGG ... CCAAG binds the factor.'],
    ],
    [
      'editorial notes run into the abstract',
      'A study of cytokine expression [published erratum appears in J Biol Chem 1994; 269: 16983] It is believed that X holds.',
      [
        'A study of cytokine expression [published erratum appears in J Biol Chem 1994; 269: 16983]',
        'It is believed that X holds.',
      ],
    ],
    [
      'Unicode letters and spaces',
      'Die Zellen wuchsen.\u00a0Ärzte sahen α-Synuclein in 5 µm Schnitten. Ωmega-3 half.',
      ['Die Zellen wuchsen.', 'Ärzte sahen α-Synuclein in 5 µm Schnitten.', 'Ωmega-3 half.'],
    ],
    [
      'a missing space after a period, but not inside a journal abbreviation',
      'The risk of thrombo-embolism rose.One trial disagreed (Proc.Natl. Acad. Sci. 1995).',
      ['The risk of thrombo-embolism rose.', 'One trial disagreed (Proc.Natl. Acad. Sci. 1995).'],
    ],
    [
      'one-letter names, units and journal initials',
      'Mutations in factor V. These were rare (J. Biol. Chem. 270: 1). Latency was 20 ms. It rose to p. 5 of the form.',
      [
        'Mutations in factor V.',
        'These were rare (J. Biol. Chem. 270: 1).',
        'Latency was 20 ms.',
        'It rose to p. 5 of the form.',
      ],
    ],
    [
      'blank lines are boundaries',
      'First part without a period\n\nSecond part.',
      ['First part without a period', 'Second part.'],
    ],
  ])('%s', (_name, text, expected) => {
    expect(texts(text)).toEqual(expected);
  });

  it('can make enumeration labels sentences of their own', () => {
    expect(texts('Two results. 1. Cells grew. 2. Cells died.', { enumerations: 'separate' })).toEqual([
      'Two results.',
      '1.',
      'Cells grew.',
      '2.',
      'Cells died.',
    ]);
  });

  it('can turn heading detection off', () => {
    expect(texts('OBJECTIVE: To assess it METHODS: A trial.', { headings: false })).toEqual([
      'OBJECTIVE: To assess it METHODS: A trial.',
    ]);
  });
});

describe('sentenceSpans: offsets and bad input', () => {
  it('returns trimmed offsets that slice the text', () => {
    const text = '  First one.   Second one!\n Third?  ';
    const spans = sentenceSpans(text);
    expect(spans.map((s) => [s.start, s.end])).toEqual([
      [2, 12],
      [15, 26],
      [28, 34],
    ]);
    for (const s of spans) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it('gives no sentences for empty or blank text', () => {
    expect(sentenceSpans('')).toEqual([]);
    expect(sentenceSpans('  \n\t ')).toEqual([]);
    expect(sentenceSpans(' . ')).toEqual([{ start: 1, end: 2, text: '.' }]);
  });

  it('rejects non-strings and control characters with a typed error', () => {
    expect(() => sentenceSpans(42 as unknown as string)).toThrow(TextInputError);
    expect(() => sentenceSpans(null as unknown as string)).toThrow(/split: expected a string, got null/);
    try {
      sentenceSpans('Fine text.\u0000 Bad.');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TextInputError);
      expect((e as TextInputError).offset).toBe(10);
      expect((e as TextInputError).retriable).toBe(false);
      expect((e as Error).message).toMatch(/U\+0000 at offset 10.*'error' \| 'space'/);
    }
    expect(texts('Fine text.\u0000 Next.', { controlChars: 'space' })).toEqual(['Fine text.', 'Next.']);
  });

  it('handles a 10,000-token sentence and pathological brackets in linear time', () => {
    const long = `${Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(' ')}.`;
    const t0 = performance.now();
    expect(sentenceSpans(long)).toHaveLength(1);
    const brackets = `${'('.repeat(20_000)}x. Y. ${')'.repeat(20_000)}`;
    expect(sentenceSpans(brackets).length).toBeGreaterThan(0);
    expect(sentenceSpans(`Start ${'x 1. y 2: z '.repeat(10_000)}end.`)).toHaveLength(1);
    const many = 'A b c. '.repeat(20_000);
    expect(sentenceSpans(many)).toHaveLength(20_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  const alphabet = fc.constantFrom(
    ...'aAbBzZ019 .. ?!,;:()[]"\'-/%\n\tµαÄ'.split(''),
    ' et al. ',
    ' e.g. ',
    ' E. coli ',
    ' METHODS: ',
    ' 1. ',
    ' p53 ',
    '\u00a0',
    '😀',
  );
  it('property: spans slice the text, are trimmed, ordered, and cover every non-space char', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (parts) => {
        const text = parts.join('');
        const spans = sentenceSpans(text);
        let prev = 0;
        const covered = new Uint8Array(text.length);
        for (const s of spans) {
          expect(s.start).toBeGreaterThanOrEqual(prev);
          expect(s.end).toBeGreaterThan(s.start);
          expect(text.slice(s.start, s.end)).toBe(s.text);
          expect(s.text).toBe(s.text.trim());
          covered.fill(1, s.start, s.end);
          prev = s.end;
        }
        for (let i = 0; i < text.length; i++) if (!/\s/u.test(text[i]!)) expect(covered[i]).toBe(1);
      }),
      { numRuns: 500, seed: 42 },
    );
  });
});

describe('splitArticle', () => {
  it('keeps the title one sentence and offsets into title + " " + abstract', () => {
    const doc = { title: 'Drug A. A case report.', abstract: 'We saw it. It was rare.' };
    const full = `${doc.title} ${doc.abstract}`;
    const spans = splitArticle(doc);
    expect(spans.map((s) => s.text)).toEqual(['Drug A. A case report.', 'We saw it.', 'It was rare.']);
    for (const s of spans) expect(full.slice(s.start, s.end)).toBe(s.text);
    expect(splitArticle({ title: '', abstract: '' })).toEqual([]);
    expect(splitArticle({ title: 'Only a title', abstract: '' })).toHaveLength(1);
    const split = splitArticle(doc, { splitTitle: true });
    expect(split.map((s) => s.text)).toEqual(['Drug A.', 'A case report.', 'We saw it.', 'It was rare.']);
    for (const s of split) expect(full.slice(s.start, s.end)).toBe(s.text);
  });
});

describe('splitSentences operator', () => {
  const article = (pmid: string, title: string, abstract: string, onSettle: (s: Settlement) => void) =>
    envelope<ArticleLike>(
      { pmid, title, abstract },
      { key: pmid, origin: { kind: 'memory', source: 't', index: 0 }, ack: AckToken.root(onSettle) },
    );

  it('fans out keyed sentences and acks the article when every sentence is acked', async () => {
    const settled: Settlement[] = [];
    const env = article('11', 'A title.', 'One. Two.', (s) => settled.push(s));
    const out = await firstValueFrom(from([env]).pipe(splitSentences(), toArray()));
    expect(out.map((e) => e.key)).toEqual(['11:0', '11:1', '11:2']);
    expect(out.map((e) => e.value)).toEqual([
      { pmid: '11', index: 0, start: 0, end: 8, text: 'A title.' },
      { pmid: '11', index: 1, start: 9, end: 13, text: 'One.' },
      { pmid: '11', index: 2, start: 14, end: 18, text: 'Two.' },
    ]);
    expect(out.every((e) => e.traceId === env.traceId)).toBe(true);
    out[0]!.ack.ack();
    out[1]!.ack.ack();
    expect(settled).toHaveLength(0);
    out[2]!.ack.ack();
    expect(settled).toEqual([{ failures: [] }]);
  });

  it('settles an empty article at once and nacks bad text with the step id', async () => {
    const settled: Settlement[] = [];
    const empty = article('1', '', ' ', (s) => settled.push(s));
    const bad = article('2', 'ok', 'bad\u0001text', (s) => settled.push(s));
    const good = article('3', 'Fine.', '', (s) => settled.push(s));
    const out = await firstValueFrom(
      from([empty, bad, good]).pipe(splitSentences({ stepId: 'split-1' }), toArray()),
    );
    expect(out.map((e) => e.key)).toEqual(['3:0']);
    expect(settled).toHaveLength(2);
    expect(settled[0]).toEqual({ failures: [] });
    expect(settled[1]!.failures[0]).toMatchObject({ stage: 'split', stepId: 'split-1' });
    expect(settled[1]!.failures[0]!.error).toBeInstanceOf(TextInputError);
  });

  it('rejects an invalid config naming the valid options', () => {
    expect(() => splitSentences({ enumerations: 'sometimes' as 'attach' })).toThrow(/attach/);
  });
});

describe('split CLI core', () => {
  it('streams JSON lines whose offsets slice title + " " + abstract', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h3-split-'));
    const file = join(dir, 'in.pubtator');
    writeFileSync(
      file,
      '7|t|Lithium toxicity.\n7|a|A newborn was seen. It recovered (n = 1).\n7\t0\t7\tLithium\tChemical\tD1\n\n8|t|Second.\n8|a|\n',
    );
    const lines: string[] = [];
    const r = await splitPubtatorFile(file, {}, (l) => lines.push(l));
    expect(r).toEqual({ documents: 2, sentences: 4 });
    const rows = lines.map(
      (l) => JSON.parse(l) as { pmid: string; start: number; end: number; text: string },
    );
    expect(rows.map((x) => x.text)).toEqual([
      'Lithium toxicity.',
      'A newborn was seen.',
      'It recovered (n = 1).',
      'Second.',
    ]);
    const full = 'Lithium toxicity. A newborn was seen. It recovered (n = 1).';
    for (const x of rows.filter((y) => y.pmid === '7')) expect(full.slice(x.start, x.end)).toBe(x.text);
    expect(Object.keys(rows[0]!)).toEqual(['pmid', 'start', 'end', 'text']);
  });

  it('names the line of malformed PubTator input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h3-split-'));
    const file = join(dir, 'bad.pubtator');
    writeFileSync(file, '7|t|T.\n7|a|A.\n7\tfoo\n');
    await expect(splitPubtatorFile(file, {}, () => undefined)).rejects.toThrow(/line 3/);
  });
});

const skip = skipWithoutSharedData('splitSentences on the shared corpora');
describe.skipIf(skip)('on the shared corpora (needs shared/data)', () => {
  it('GENIA dev: boundary F1 stays at or above 0.995', () => {
    const docs = parsePubtator(readFileSync(dataPath('sentences/genia_dev.pubtator'), 'utf8'));
    const gold = new Set(
      readFileSync(dataPath('sentences/genia_dev.gold.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const g = JSON.parse(l) as { pmid: string; end: number };
          return `${g.pmid}:${g.end}`;
        }),
    );
    const pred = new Set<string>();
    for (const d of docs) for (const s of splitArticle(d)) pred.add(`${d.pmid}:${s.end}`);
    let tp = 0;
    for (const p of pred) if (gold.has(p)) tp++;
    const precision = tp / pred.size;
    const recall = tp / gold.size;
    const f1 = (2 * precision * recall) / (precision + recall);
    expect(f1).toBeGreaterThanOrEqual(0.995);
  });

  it('CDR dev: every sentence slices its abstract and no mention is cut by a boundary', () => {
    const docs = parsePubtator(readFileSync(dataPath('pubtator/cdr_dev.pubtator'), 'utf8'));
    let cut = 0;
    for (const d of docs) {
      const full = pubtatorText(d);
      const spans = splitArticle(d);
      for (const s of spans) expect(full.slice(s.start, s.end)).toBe(s.text);
      for (const a of d.annotations) {
        const inside = spans.some((s) => s.start <= a.start && a.end <= s.end);
        if (!inside) cut++;
      }
    }
    // Only the CDR composite mentions that span two sentences could be cut; none do.
    expect(cut).toBe(0);
  });
});
