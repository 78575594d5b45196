// The action of `bioaug-stream run <topology>` (options in run.ts): opens the sources, sinks and dead
// letters, serves /metrics and the live console, runs the topology and prints its summary and exit code.
import { tap } from 'rxjs';
import type { SourceStreams } from '../../engine/runner.ts';
import { rejectedTotal } from '../../augment/filterAugmented.ts';
import { CountingDeadLetters } from '../../engine/deadLetters.ts';
import { runTopology, type SinkMap } from '../../engine/runner.ts';
import type { Source } from '../../engine/types.ts';
import { createCodec } from '../../io/avro/codec.ts';
import type { SchemaName } from '../../io/avro/schemas.ts';
import { applyProcessConfig, kafkaConnection, loadConfig, printConfig, registryOptions } from '../config.ts';
import { startObservabilityFromConfig } from '../../obs/server.ts';
import { createConsole, mountConsole } from '../consoleWiring.ts';
import { inputProgress, runStatus, statusLine } from '../runStatus.ts';
import type { LiveConsole } from '../../console/liveConsole.ts';
import { startLagMonitor } from '../../obs/lag.ts';
import { createKafka } from '../../io/kafka/client.ts';
import { checkBrokers } from '../../io/kafka/checkBrokers.ts';
import { namedUri, openDeadLettersUri, openSinkUri, openSourceUri } from '../../io/wiring.ts';
import { logger } from '../../obs/logger.ts';
import { loadTopology } from './run.ts';

/** Runs `topology` with the parsed flags of `run` (config flags included). */
export async function runAction(topology: string, flags: Record<string, unknown>): Promise<void> {
  const config = loadConfig({ flags });
  const mod = await loadTopology(topology);
  if (flags.printConfig) {
    // The topology's block with its defaults filled in: every key it accepts, at its effective value.
    const block = mod.configSchema?.parse(config.topologies[topology] ?? {}) ?? config.topologies[topology];
    const shown = { ...config, topologies: { ...config.topologies, [topology]: block } };
    process.stdout.write(printConfig(shown as typeof config));
    return;
  }
  applyProcessConfig(config);
  // Files the topology config names (state, model.json) are read here, before anything is opened.
  const inputs = await mod.resolve(config.topologies[topology] ?? {});
  const connection = kafkaConnection(config);
  const uris = [...(flags.source as string[]), ...(flags.sink as string[]), flags.deadLetters as string].map(
    (spec) => spec.replace(/^[A-Za-z][\w-]*=/, ''),
  );
  if (uris.some((u) => u.startsWith('kafka:'))) await checkBrokers(connection);
  // The live console at / of the metrics server (none when metrics are off). It shows record contents
  // without authentication, so by default only where the server listens on loopback (the default).
  const consoleOn = config.metrics.enabled && (flags.console ?? isLoopback(config.metrics.host)) === true;
  if (config.metrics.enabled && flags.console === undefined && !consoleOn)
    process.stderr.write(
      `console: off (metrics.host ${config.metrics.host} is not loopback; --console serves it there)\n`,
    );
  const live = consoleOn ? createConsole({ topology, recordsIn: () => recordsIn() }) : undefined;
  const deadLetterWriter = openDeadLettersUri(flags.deadLetters as string, connection, {
    maxPayloadBytes: config.deadLetters.maxPayloadBytes,
  });
  const deadLetters = new CountingDeadLetters(live ? live.deadLetters(deadLetterWriter) : deadLetterWriter);
  const maxDeadLetters = flags.maxDeadLetters === undefined ? undefined : Number(flags.maxDeadLetters);
  if (maxDeadLetters !== undefined && !(maxDeadLetters >= 0))
    throw new Error(`run: --max-dead-letters must be a number >= 0, got ${String(flags.maxDeadLetters)}`);
  const codec = await createCodec(registryOptions(config));
  const wiring = {
    connection,
    groupId: config.kafka.groupId,
    fromBeginning: config.kafka.fromBeginning,
    maxInFlight: config.engine.maxInFlight,
    maxMessageBytes: config.engine.maxMessageBytes,
    codec,
    deadLetters,
    producer: config.kafka.producer,
    consumer: config.kafka.consumer,
    deadLetterOnFailure: config.deadLetters.onFailure,
    deadLetterRetryMs: config.deadLetters.retryMs,
    stalledCommitMs: config.engine.stalledCommitMs,
  };
  const sourceSpecs = flags.source as string[];
  const sinkSpecs = flags.sink as string[];
  if (sourceSpecs.length === 0) throw new Error(`run ${topology}: give at least one --source`);
  const onlySource = mod.streamNames?.sources.length === 1 ? mod.streamNames.sources[0] : undefined;
  const onlySink = mod.streamNames?.sinks.length === 1 ? mod.streamNames.sinks[0] : undefined;
  const sources: Record<string, Source<unknown>> = {};
  for (const spec of sourceSpecs) {
    const { name, uri } = namedUri(spec, onlySource, 'source');
    sources[name] = openSourceUri(uri, wiring, name);
  }
  const sinks: SinkMap = {};
  const where: Record<string, string> = {};
  for (const spec of sinkSpecs) {
    const { name, uri } = namedUri(spec, onlySink, 'sink');
    sinks[name] = openSinkUri(
      uri,
      wiring,
      name,
      mod.streamNames?.sinkSchemas?.[name] as SchemaName | undefined,
    );
    where[name] = uri;
  }
  for (const needed of mod.streamNames?.sources ?? [])
    if (!sources[needed]) throw new Error(`run ${topology}: missing --source ${needed}=<uri>`);
  for (const needed of mod.streamNames?.sinks ?? [])
    if (!sinks[needed]) throw new Error(`run ${topology}: missing --sink ${needed}=<uri>`);
  // Records read so far (the status line and the console read it).
  const recordsIn = (): number =>
    Object.values(sources).reduce((n, src) => {
      const st = (src as { stats?: { consumed?: number; emitted?: number } }).stats;
      return n + (st?.consumed ?? st?.emitted ?? 0);
    }, 0);
  // /metrics, /healthz, /readyz for probes and Prometheus; consumer lag for the dashboard.
  let running = false;
  // Not ready while a source says so (a dead letter that cannot be written, a stalled commit): the
  // server reports the thrown message as the reason.
  const obs = await startObservabilityFromConfig(config, () => {
    if (!running) return false;
    const h = run.health();
    if (!h.ready) throw new Error(h.reason ?? 'a source is not ready');
    return true;
  });
  const kafkaTopics = sourceSpecs
    .map((spec) => namedUri(spec, onlySource, 'source').uri)
    .filter((uri) => uri.startsWith('kafka:'))
    .map((uri) => uri.slice('kafka:'.length).split('?')[0]!);
  let lagMonitor: ReturnType<typeof startLagMonitor> | undefined;
  let admin: ReturnType<ReturnType<typeof createKafka>['admin']> | undefined;
  if (kafkaTopics.length > 0) {
    admin = createKafka(connection).admin();
    await admin.connect();
    lagMonitor = startLagMonitor({ admin, groupId: config.kafka.groupId, topics: kafkaTopics });
  }
  const monitor = lagMonitor;
  live?.attach({
    sources: Object.keys(sources),
    sinks: Object.keys(sinks),
    ...(monitor
      ? {
          kafka: {
            groupId: config.kafka.groupId,
            topics: sourceSpecs
              .map((spec) => namedUri(spec, onlySource, 'source'))
              .filter((x) => x.uri.startsWith('kafka:'))
              .map((x) => ({ topic: x.uri.slice('kafka:'.length).split('?')[0]!, source: x.name })),
            poll: () => monitor.poll(),
          },
        }
      : {}),
  });
  const mounted = live && obs ? mountConsole(live, obs) : undefined;
  const started = Date.now();
  const rejectedBefore = await rejectedByReason();
  let outputs = 0;
  const run = runTopology({
    sources,
    sinks,
    deadLetters,
    build: (s, k, i) =>
      mod.build(live ? observeInputs(s, live) : s, k, i).pipe(
        tap((e) => {
          outputs += 1;
          live?.observe(e.value);
        }),
      ),
    config: inputs,
    shutdownTimeoutMs: config.engine.shutdownTimeoutMs,
  });
  running = true;
  const progressMs =
    flags.progressMs !== undefined
      ? Number(flags.progressMs)
      : process.stderr.isTTY || kafkaTopics.length > 0
        ? 10_000
        : 0;
  let lastOutputs = 0;
  let lastAt = started;
  let lag: number | undefined;
  // On a terminal a status line; elsewhere (a container's log) the same figures as a JSON log line.
  const tty = process.stderr.isTTY === true;
  const progress =
    progressMs > 0
      ? setInterval(() => {
          const now = Date.now();
          const rate = ((outputs - lastOutputs) * 1000) / Math.max(1, now - lastAt);
          // Progress and ETA where every input's size is known (files); not on Kafka or stdin.
          const done = inputProgress(sources);
          const status = runStatus({
            topology,
            in: recordsIn(),
            out: outputs,
            ratePerSec: Math.round(rate * 10) / 10,
            deadLettered: deadLetters.count,
            ...(lag !== undefined ? { lag } : {}),
            elapsedMs: now - started,
            ...(done !== undefined ? { progress: done } : {}),
          });
          if (tty) process.stderr.write(statusLine(status));
          else logger.info(status, 'status');
          lastOutputs = outputs;
          lastAt = now;
          lagMonitor
            ?.poll()
            .then((samples) => (lag = samples.reduce((n, x) => n + x.lag, 0)))
            .catch(() => undefined);
        }, progressMs)
      : undefined;
  progress?.unref();
  let result: Awaited<typeof run.done>;
  try {
    result = await run.done;
  } finally {
    if (progress) clearInterval(progress);
    running = false;
    lagMonitor?.stop();
    await admin?.disconnect().catch(() => undefined);
    mounted?.close();
    await obs?.close();
  }
  logger.info({ topology, ...result }, 'topology finished');
  process.stdout.write(
    `${topology}: ${result.outputs} outputs in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.stoppedBy})\n` +
      Object.entries(where)
        .map(([n, u]) => `  ${n} -> ${u}\n`)
        .join('') +
      `  dead letters: ${deadLetters.count}${stageCounts(deadLetters.byStage)} -> ${flags.deadLetters as string}\n` +
      (await rejectedLine(rejectedBefore)),
  );
  // Honest exit codes: a run that dead-lettered everything (an unwritable sink, a wrong input
  // format) failed, and so did one over the dead-letter budget the caller gave.
  const failed =
    maxDeadLetters !== undefined
      ? deadLetters.count > maxDeadLetters
      : deadLetters.count > 0 && result.outputs === 0;
  if (failed) {
    process.stderr.write(
      `bioaug-stream: error: ${topology} dead-lettered ${deadLetters.count} records` +
        (maxDeadLetters !== undefined
          ? ` (more than --max-dead-letters ${maxDeadLetters})`
          : ' and wrote no output') +
        `; the reasons are in ${flags.deadLetters as string}\n`,
    );
    process.exitCode = 1;
  }
}

function stageCounts(byStage: Map<string, number>): string {
  if (byStage.size === 0) return '';
  return ` (${[...byStage].map(([stage, n]) => `${stage} ${n}`).join(', ')})`;
}

/** The topology's input streams, each record also shown to the console (labeled sentences it keeps). */
function observeInputs(streams: SourceStreams, live: LiveConsole): SourceStreams {
  return Object.fromEntries(
    Object.entries(streams).map(([name, s]) => [name, s.pipe(tap((e) => live.observeInput(e.value)))]),
  );
}

/** True for a loopback address (127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** bioaug_augmented_rejected_total summed over steps, by reason. */
async function rejectedByReason(): Promise<Map<string, number>> {
  const byReason = new Map<string, number>();
  for (const v of (await rejectedTotal.get()).values) {
    const reason = String(v.labels.reason ?? 'unknown');
    byReason.set(reason, (byReason.get(reason) ?? 0) + v.value);
  }
  return byReason;
}

/**
 * The summary line of augmented records that are invalid or were filtered (written with valid=false or
 * dropped, per config), by reason, counted since `before` (the counter is process-wide); '' when none.
 */
async function rejectedLine(before: Map<string, number>): Promise<string> {
  const byReason = new Map<string, number>();
  for (const [reason, n] of await rejectedByReason())
    if (n - (before.get(reason) ?? 0) > 0) byReason.set(reason, n - (before.get(reason) ?? 0));
  const total = [...byReason.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return '';
  const parts = [...byReason].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  return `  augmented invalid or filtered: ${total} (${parts.join(', ')})\n`;
}
