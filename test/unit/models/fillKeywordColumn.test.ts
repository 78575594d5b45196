import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope } from '../../../src/engine/envelope.ts';
import { fillKeywordColumn, keywordColumnOf } from '../../../src/models/keywords/fillKeywordColumn.ts';
import { defaultModel } from '../../../src/models/modelStepConfig.ts';

const env = (v: { tokens: string[]; keywords?: string[] }, i: number) =>
  envelope(v, { origin: { kind: 'memory', source: 't', index: i }, ack: AckToken.noop() });

describe('fillKeywordColumn (models/keywords)', () => {
  it('maps tagger tags to a bare keyword column', () => {
    expect(keywordColumnOf(['O', 'B-KEY', 'I-KEY', 'O'])).toEqual(['O', 'B', 'I', 'O']);
  });

  it('tags sentences without a column and keeps the corpus column of the others', async () => {
    const own = ['O', 'O', 'B', 'O', 'O', 'O', 'O'];
    const inputs = [
      { tokens: 'Patients with chronic renal failure received cisplatin .'.split(' ') },
      { tokens: 'The drug caused severe liver damage .'.split(' '), keywords: own },
    ];
    const out = await lastValueFrom(
      from(inputs.map(env)).pipe(
        fillKeywordColumn({ model: defaultModel('keywords'), maxBatch: 8 }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.value.keywords.length)).toEqual([8, 7]);
    expect(out[1]!.value.keywords).toBe(own);
    expect(out[0]!.value.keywords.every((t) => t === 'B' || t === 'I' || t === 'O')).toBe(true);
    // The keyword model finds at least one domain phrase in a sentence this biomedical.
    expect(out[0]!.value.keywords).toContain('B');
  });
});
