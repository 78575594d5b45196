// Fan a stream out into named branches: each envelope is split into one child per branch, so the
// input is acked only when every branch has finished with it.
import { filter, map, mergeMap, share, type Observable } from 'rxjs';
import { derive, type Envelope } from './envelope.ts';

/** One stream per name; each carries a share of every input's ack token. */
export function branches<T, K extends string>(
  source: Observable<Envelope<T>>,
  names: readonly K[],
): Record<K, Observable<Envelope<T>>> {
  if (names.length === 0) throw new RangeError('branches: at least one branch name is needed');
  const tagged = source.pipe(
    mergeMap((env) => {
      const tokens = env.ack.split(names.length);
      return names.map((name, i) => ({ name, env: derive(env, env.value, tokens[i]!) }));
    }),
    share(),
  );
  const out = {} as Record<K, Observable<Envelope<T>>>;
  for (const name of names)
    out[name] = tagged.pipe(
      filter((x) => x.name === name),
      map((x) => x.env),
    );
  return out;
}
