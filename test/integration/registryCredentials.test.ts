// Schema registry credentials through the CLI: they reach the registry (HTTP basic auth, from the
// URL or from schemaRegistry.username/password) and never appear in anything the process prints.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBroker } from '../helpers/setup.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');
const sample = join(root, 'topologies/samples/abstracts.pubtator');
const USER = 'svc-bioaug';
const SECRET = 'Zq8-registry-secret-7Hx';
const WRONG = 'wrong-secret-Kp3';
const broker = useTestBroker();
let server: Server;
let port = 0;
/** Authorization headers the registry saw, one per request. */
const seen: string[] = [];

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--brokers', broker.brokers.join(',')], {
      cwd: root,
      // debug: every log line the process can write is in the output searched for the secret.
      env: { ...process.env, LOG_LEVEL: 'debug', BIOSTREAM_DEBUG: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  await broker.createTopic('pubmed.abstracts', 1);
  // A registry that demands basic auth and speaks the calls the codec makes (register, versions).
  const ids = new Map<string, number>();
  const expected = `Basic ${Buffer.from(`${USER}:${SECRET}`).toString('base64')}`;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(req.headers.authorization ?? '');
      res.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
      if (req.headers.authorization !== expected) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      }
      const reg = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
      if (req.method === 'POST' && reg) {
        const schema = (JSON.parse(body) as { schema: string }).schema;
        const id = ids.get(schema) ?? 200 + ids.size;
        ids.set(schema, id);
        return res.end(JSON.stringify({ id }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error_code: 40401, message: 'Subject not found' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
});

const produce = ['produce', `pubtator:${sample}`, '--topic', 'pubmed.abstracts', '--no-progress'];

describe('schema registry credentials', () => {
  it('user:password in the URL become basic auth and are never printed', async () => {
    seen.length = 0;
    const r = await cli([...produce, '--schema-registry', `http://${USER}:${SECRET}@127.0.0.1:${port}`]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/produced \d+ records to pubmed.abstracts/);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([`Basic ${Buffer.from(`${USER}:${SECRET}`).toString('base64')}`]));
    expect(r.output).not.toContain(SECRET);
  }, 120_000);

  it('schemaRegistry.username/password (env) are passed on and never printed', async () => {
    seen.length = 0;
    const env = { SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: SECRET };
    const r = await cli([...produce, '--schema-registry', `http://127.0.0.1:${port}`], env);
    expect(r.code, r.output).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h.startsWith('Basic '))).toBe(true);
    expect(r.output).not.toContain(SECRET);
    const printed = await cli(
      [...produce, '--schema-registry', `http://127.0.0.1:${port}`, '--print-config'],
      env,
    );
    expect(printed.code, printed.output).toBe(0);
    expect(printed.output).toContain('password: "***"');
    expect(printed.output).not.toContain(SECRET);
  }, 120_000);

  it('a refused password fails with one error naming the user, without the password or the URL credentials', async () => {
    const r = await cli([...produce, '--schema-registry', `http://${USER}:${WRONG}@127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/bioaug-stream: error: .*HTTP 401 \(unauthorized\) for user svc-bioaug/);
    expect(r.output).toContain('SCHEMA_REGISTRY_PASSWORD');
    expect(r.output).not.toContain(WRONG);
    const onlyUser = await cli([...produce, '--schema-registry', `http://127.0.0.1:${port}`], {
      SCHEMA_REGISTRY_USERNAME: USER,
    });
    expect(onlyUser.code).toBe(1);
    expect(onlyUser.output).toContain('schemaRegistry.username and schemaRegistry.password go together');
  }, 120_000);
});
