/** One window over units [start, end) that owns (writes the stitched result for) units [ownStart, ownEnd). */
export interface Window {
  start: number;
  end: number;
  ownStart: number;
  ownEnd: number;
}

/**
 * Plans overlapping windows over `costs.length` units (words) so each window's total cost fits `budget`
 * (subwords per word for HF models, 1 per word for word-level ones). Consecutive windows overlap by about
 * a quarter window and split ownership at the middle of the overlap, so every unit is decoded with context
 * on both sides and nothing is truncated. A unit costlier than the whole budget gets a window of its own.
 */
export function planWindows(costs: readonly number[], budget: number): Window[] {
  const n = costs.length;
  if (budget < 1) throw new RangeError(`planWindows: budget must be >= 1, got ${budget}`);
  const raw: { start: number; end: number }[] = [];
  let s = 0;
  while (s < n || (n === 0 && raw.length === 0)) {
    let e = s;
    let c = 0;
    while (e < n && (e === s || c + (costs[e] ?? 1) <= budget)) c += costs[e++] ?? 1;
    raw.push({ start: s, end: e });
    if (e >= n) break;
    const overlap = Math.floor((e - s) / 4);
    s = Math.max(s + 1, e - overlap);
  }
  return raw.map((w, k) => {
    const prev = raw[k - 1];
    const next = raw[k + 1];
    const ownStart = prev ? Math.floor((w.start + prev.end) / 2) : w.start;
    const ownEnd = next ? Math.floor((next.start + w.end) / 2) : w.end;
    return { ...w, ownStart, ownEnd };
  });
}
