import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { TopologyInputError } from '../../../src/engine/topology.ts';
import type { ArticleLike } from '../../../src/text/splitSentences.ts';
import { checkArticle, validateArticle } from '../../../src/text/validateArticle.ts';

async function run(articles: unknown[], config: Parameters<typeof validateArticle>[0] = {}) {
  const settled: Settlement[] = [];
  const out = await lastValueFrom(
    from(
      articles.map((a, i) =>
        envelope(a as ArticleLike, {
          key: String(i),
          origin: { kind: 'memory', source: 'm', index: i },
          ack: AckToken.root((s) => (settled[i] = s)),
        }),
      ),
    ).pipe(validateArticle(config), toArray()),
  );
  for (const e of out) e.ack.ack();
  return { out, settled };
}

describe('validateArticle', () => {
  it('passes valid articles unchanged and dead-letters each kind of invalid one with a clear reason', async () => {
    const ok = { pmid: '1', title: 'T', abstract: 'A' };
    const { out, settled } = await run([
      ok,
      { pmid: ' ', title: 'T', abstract: 'A' },
      { pmid: '2', title: 'T', abstract: 3 },
      { pmid: '3', title: 'T', abstract: '  ' },
      null,
    ]);
    expect(out.map((e) => e.value)).toEqual([ok]);
    expect(settled.map((s) => s.failures.map((f) => `${f.stepId}: ${f.error.message}`))).toEqual([
      [],
      ['validate-article: validate-article: article without a PMID'],
      ['validate-article: validate-article: PMID 2: title and abstract must be strings'],
      ['validate-article: validate-article: PMID 3: empty abstract'],
      ['validate-article: validate-article: article without a PMID'],
    ]);
  });

  it('with requireAbstract false keeps title-only articles, still not empty ones', async () => {
    const { out, settled } = await run(
      [
        { pmid: '1', title: 'Title only', abstract: '' },
        { pmid: '2', title: '', abstract: '' },
      ],
      { requireAbstract: false, stepId: 'check' },
    );
    expect(out.map((e) => e.value.pmid)).toEqual(['1']);
    expect(settled[1]!.failures[0]).toMatchObject({ stepId: 'check' });
    expect(settled[1]!.failures[0]!.error.message).toBe('check: PMID 2: no text');
  });

  it('throws a non-retriable TopologyInputError naming the step', () => {
    const e = (() => {
      try {
        checkArticle({ pmid: '9', title: 'x', abstract: '' }, true, 'v');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(TopologyInputError);
    expect(e).toMatchObject({ step: 'v', retriable: false });
    expect(() => validateArticle({ require: true } as never)).toThrow();
  });
});
