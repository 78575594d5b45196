// The periodic status of `run`: records in and out, rate, dead letters, lag on Kafka and, where the input
// size is known (file sources), progress with an ETA: a line with a bar on a terminal, a JSON log elsewhere.

/** One status sample (the fields of the JSON `status` log line). */
export interface RunStatus {
  topology: string;
  in: number;
  out: number;
  ratePerSec: number;
  deadLettered: number;
  lag?: number;
  elapsedSec: number;
  /** Share of the input done, 0..1 (file sources only). */
  progress?: number;
  /** Seconds left at the average pace so far (file sources only, once progress > 0). */
  etaSeconds?: number;
}

/**
 * The run's progress over its inputs, 0..1, weighted by input size, when every source knows its size
 * (file sources: `progress()` of src/io/files/fileSource.ts); undefined when any does not (Kafka, stdin).
 */
export function inputProgress(sources: Record<string, unknown>): number | undefined {
  let done = 0;
  let total = 0;
  const all = Object.values(sources);
  for (const src of all) {
    const p = (src as { progress?: () => { fraction: number; totalBytes: number } | undefined }).progress?.();
    if (!p) return undefined;
    done += p.fraction * p.totalBytes;
    total += p.totalBytes;
  }
  return all.length > 0 && total > 0 ? done / total : undefined;
}

/** Seconds left when `progress` of the work took `elapsedMs` at a steady pace; undefined before any progress. */
export function etaSeconds(progress: number, elapsedMs: number): number | undefined {
  if (!(progress > 0)) return undefined;
  return Math.max(0, (elapsedMs / 1000) * ((1 - progress) / progress));
}

/** A status sample; `progress` given adds progress and etaSeconds (rounded as logged). */
export function runStatus(
  s: Omit<RunStatus, 'progress' | 'etaSeconds' | 'elapsedSec'> & { elapsedMs: number; progress?: number },
): RunStatus {
  const { elapsedMs, progress, ...rest } = s;
  const status: RunStatus = { ...rest, elapsedSec: Math.round(elapsedMs / 1000) };
  if (progress !== undefined) {
    status.progress = Math.round(progress * 1000) / 1000;
    const eta = etaSeconds(progress, elapsedMs);
    if (eta !== undefined) status.etaSeconds = Math.round(eta);
  }
  return status;
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `[######--------------]  30%` for a share 0..1. */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

/** The terminal line of a status sample: the progress bar and ETA first where the input size is known. */
export function statusLine(s: RunStatus): string {
  const bar =
    s.progress !== undefined
      ? `${progressBar(s.progress)} ETA ${s.etaSeconds !== undefined ? formatDuration(s.etaSeconds) : '?'}  `
      : '';
  return (
    `${bar}${s.topology}: ${s.in} in, ${s.out} out (${s.ratePerSec.toFixed(1)}/s), ${s.deadLettered} dead-lettered` +
    (s.lag !== undefined ? `, lag ${s.lag}` : '') +
    `, ${s.elapsedSec} s\n`
  );
}
