// Fan a stream out into named branches: each envelope is split into one child per branch, so the
// input is acked only when every branch has finished with it.
import { Observable, Subject, filter, map, merge, mergeMap, type Subscription } from 'rxjs';
import { derive, type Envelope } from './envelope.ts';
import { sameTail, unionTail } from './graph.ts';

/**
 * One stream per name; each carries a share of every input's ack token. The source is subscribed
 * once, when the last branch is: a branch subscribed late would miss inputs (their tokens would then
 * never settle), and a source that emits synchronously would otherwise run before the other branches.
 */
export function branches<T, K extends string>(
  source: Observable<Envelope<T>>,
  names: readonly K[],
): Record<K, Observable<Envelope<T>>> {
  if (names.length === 0) throw new RangeError('branches: at least one branch name is needed');
  const hub = new Subject<{ name: K; env: Envelope<T> }>();
  const tagged = source.pipe(
    mergeMap((env) => {
      const tokens = env.ack.split(names.length);
      return names.map((name, i) => ({ name, env: derive(env, env.value, tokens[i]!) }));
    }),
  );
  let subscribed = 0;
  let connection: Subscription | null = null;
  const out = {} as Record<K, Observable<Envelope<T>>>;
  for (const name of names)
    out[name] = sameTail(
      new Observable<Envelope<T>>((sub) => {
        const inner = hub
          .pipe(
            filter((x) => x.name === name),
            map((x) => x.env),
          )
          .subscribe(sub);
        if (++subscribed === names.length) connection = tagged.subscribe(hub);
        return () => {
          inner.unsubscribe();
          if (--subscribed === 0) connection?.unsubscribe();
        };
      }),
      source,
    );
  return out;
}

/**
 * Merges branches back into one stream (RxJS `merge`), so that the steps after it read, on the
 * topology graph (src/engine/graph.ts), from the last step of every branch.
 */
export function mergeBranches<T>(...streams: Array<Observable<Envelope<T>>>): Observable<Envelope<T>> {
  return unionTail(merge(...streams), streams);
}
