import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { produceRaw, readAll } from '../helpers/kafkaData.ts';
import { tempDir, useTestBroker } from '../helpers/setup.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');
const sample = join(root, 'topologies/samples/abstracts.pubtator');
const broker = useTestBroker(async (broker) => {
  await broker.createTopic('pubmed.abstracts', 3);
  await broker.createTopic('abstracts.dlq', 1);
  await broker.createTopic('reinjected', 1);
  await broker.createTopic('my.custom.predictions', 2);
});
const tmp = tempDir('bioaug-cli-');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--brokers', broker.brokers.join(',')], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('CLI produce / consume / topics against the broker', () => {
  it('produces a PubTator file as Avro, lists it, consumes it back to JSONL', async () => {
    const docs = readFileSync(sample, 'utf8').match(/^\d+\|t\|/gm)!.length;
    const p = await cli(['produce', `pubtator:${sample}`, '--topic', 'pubmed.abstracts', '--no-progress']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`produced ${docs} records to pubmed.abstracts`);

    const l = await cli(['topics', 'list']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain(`pubmed.abstracts\tpartitions=3\tmessages=${docs}`);

    const out = join(tmp, 'abstracts.jsonl');
    const c = await cli([
      'consume',
      '--topic',
      'pubmed.abstracts',
      '--out',
      `jsonl:${out}`,
      '--max',
      String(docs),
      '--group-id',
      'cli-consume',
      '--idle-ms',
      '3000',
    ]);
    expect(c.code, c.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x) as { pmid: string; abstract: string });
    expect(lines.length).toBe(docs);
    expect(lines.some((a) => a.pmid === '90000001' && a.abstract.startsWith('BACKGROUND: Cisplatin'))).toBe(
      true,
    );
    console.log(`cli: produced and consumed back ${docs} PubTator abstracts`);
  }, 120_000);

  it('consume --max stops at exactly n records; without --group-id it joins a group of its own', async () => {
    const out = join(tmp, 'two.jsonl');
    const c = await cli(['consume', '--topic', 'pubmed.abstracts', '--out', `jsonl:${out}`, '--max', '2']);
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(c.stderr).toMatch(/consumed 2 records .*\(group bioaug-stream-consume-[0-9a-f]{8}\)/);
  }, 120_000);

  it('consume --idle-ms counts from the group assignment and then exits', async () => {
    const docs = readFileSync(sample, 'utf8').match(/^\d+\|t\|/gm)!.length;
    const out = join(tmp, 'idle.jsonl');
    const c = await cli([
      'consume',
      '--topic',
      'pubmed.abstracts',
      '--out',
      `jsonl:${out}`,
      '--idle-ms',
      '1000',
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(docs);
  }, 120_000);

  it('prints an error as one line with a hint, no stack trace, exit code 1', async () => {
    const r = await cli(['run', 'no-such-topology', '--source', `pubtator:${sample}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bioaug-stream: error: .*no-such-topology/m);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const missing = await cli([
      'run',
      'ner-tagging',
      '--source',
      'pubtator:/no/such/file.pubtator',
      '--sink',
      `predictions=jsonl:${join(tmp, 'p.jsonl')}`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^bioaug-stream: error: .*\/no\/such\/file\.pubtator/m);
    expect(missing.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('run exits 1 when everything was dead-lettered (or over --max-dead-letters) and counts dead letters by stage', async () => {
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"foo":1}\n{"pmid":""}\nnot json\n');
    const args = [
      'run',
      'ner-tagging',
      '--source',
      `jsonl:${bad}`,
      '--sink',
      `predictions=jsonl:${join(tmp, 'o.jsonl')}`,
    ];
    const dlq = `jsonl:${join(tmp, 'bad.dlq.jsonl')}`;
    const r = await cli([...args, '--dead-letters', dlq]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('dead letters: 3 (operator 2, source 1)');
    expect(r.stderr).toMatch(
      /^bioaug-stream: error: ner-tagging dead-lettered 3 records and wrote no output/m,
    );
    const allowed = await cli([...args, '--dead-letters', dlq, '--max-dead-letters', '3']);
    expect(allowed.code, allowed.stderr).toBe(0);
    const ok = await cli([
      'run',
      'ner-tagging',
      '--source',
      `pubtator:${sample}`,
      '--sink',
      `predictions=jsonl:${join(tmp, 'ok.jsonl')}`,
      '--max-dead-letters',
      '0',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('dead letters: 0 ->');
  }, 120_000);

  it('a Kafka sink of any topic name gets its schema from the topology (no ?schema= needed)', async () => {
    const r = await cli([
      'run',
      'ner-tagging',
      '--source',
      `pubtator:${sample}`,
      '--sink',
      'predictions=kafka:my.custom.predictions',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(tmp, 'custom.jsonl');
    const c = await cli([
      'consume',
      '--topic',
      'my.custom.predictions',
      '--out',
      `jsonl:${out}`,
      '--idle-ms',
      '1000',
    ]);
    expect(c.code, c.stderr).toBe(0);
    const preds = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; entities: unknown[] });
    expect(preds.length).toBeGreaterThan(10);
    expect(preds.every((p) => /^\d+:\d+$/.test(p.id) && Array.isArray(p.entities))).toBe(true);
  }, 120_000);

  it('an unreachable broker fails in seconds with one line naming the brokers and `bioaug-stream broker`', async () => {
    const started = Date.now();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'consume', '--topic', 'x', '--brokers', '127.0.0.1:9'], {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'error' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.stderr).toMatch(
      /^bioaug-stream: error: BrokersUnreachableError: no Kafka broker answered at 127\.0\.0\.1:9/m,
    );
    expect(r.stderr).toContain('bioaug-stream broker');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('re-injects dead letters without their dlq.* headers', async () => {
    await produceRaw(broker.brokers, 'abstracts.dlq', [
      { key: 'a', value: 'raw-1', headers: { 'dlq.stage': 'decode', 'dlq.step': 'x', keep: 'yes' } },
      { key: 'b', value: 'raw-2', headers: { 'dlq.stage': 'operator' } },
      // A dead-lettered tombstone (null value) is re-injected as a tombstone.
      { key: 't', value: null, headers: { 'dlq.stage': 'decode', 'dlq.error.class': 'NullValueError' } },
      // A truncated dead letter is not the record: named, not re-injected.
      {
        key: 'cut',
        value: 'half a rec',
        headers: {
          'dlq.payload.truncated': 'true',
          'dlq.origin.topic': 'pubmed.abstracts',
          'dlq.origin.partition': '2',
          'dlq.origin.offset': '77',
        },
      },
    ]);
    const r = await cli([
      'produce',
      '--from-dlq',
      'abstracts.dlq',
      '--topic',
      'reinjected',
      '--idle-ms',
      '3000',
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 truncated dead letter(s) not re-injected');
    expect(r.stderr).toContain('pubmed.abstracts/2/77');
    const back = await readAll(broker.brokers, 'reinjected');
    expect(back.map((m) => [m.key, m.value === null ? null : m.value.toString()]).sort()).toEqual([
      ['a', 'raw-1'],
      ['b', 'raw-2'],
      ['t', null],
    ]);
    expect(back.find((m) => m.key === 'a')!.headers.keep).toBe('yes');
    expect(Object.keys(back.find((m) => m.key === 'a')!.headers).some((k) => k.startsWith('dlq.'))).toBe(
      false,
    );
  }, 120_000);
});
