// Mutual TLS to Kafka: kafka.sslCertFile/sslKeyFile (+ sslKeyPassword) reach the TLS handshake of the
// CLI's Kafka clients. The broker side is a TLS server that demands a client certificate signed by
// the test CA (the mock cluster speaks no TLS), so the test checks the handshake a broker would see.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaConnection, loadConfig, printConfig } from '../../src/cli/config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');
const tls = (f: string): string => join(root, 'test/fixtures/tls', f);
let server: Server;
let port = 0;
/** One entry per TLS connection attempt: the client certificate's CN when authorized, else the error. */
const seen: string[] = [];

function cli(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'topics', 'list', '--brokers', `127.0.0.1:${port}`], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'debug', KAFKA_SSL_CA_FILE: tls('ca.pem'), ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  server = createServer(
    {
      key: readFileSync(tls('server.key')),
      cert: readFileSync(tls('server.pem')),
      ca: readFileSync(tls('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket: TLSSocket) => {
      const cert = socket.getPeerCertificate();
      seen.push(socket.authorized ? `CN=${String(cert.subject?.CN)}` : `unauthorized`);
      socket.destroy();
    },
  );
  server.on('tlsClientError', (e) => seen.push(`rejected: ${e.message}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('mutual TLS to Kafka', () => {
  it('presents the client certificate from KAFKA_SSL_CERT_FILE/KEY_FILE (encrypted key, passphrase)', async () => {
    seen.length = 0;
    const r = await cli({
      KAFKA_SSL_CERT_FILE: tls('client.pem'),
      KAFKA_SSL_KEY_FILE: tls('client.key'),
      KAFKA_SSL_KEY_PASSWORD: 'test-key-passphrase',
    });
    // The server is no broker: the command fails after the handshake, which is what is checked.
    expect(r.code).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(
      seen.every((s) => s === 'CN=bioaug-test-client'),
      seen.join('; '),
    ).toBe(true);
    expect(r.output).not.toContain('test-key-passphrase');
  }, 60_000);

  it('without a client certificate the broker refuses the handshake', async () => {
    seen.length = 0;
    const r = await cli({});
    expect(r.code).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.some((s) => s.startsWith('CN='))).toBe(false);
  }, 60_000);

  it('config: certificate and key go together, an unreadable file is a config error, the passphrase is redacted', () => {
    const env = { KAFKA_SSL_CERT_FILE: tls('client.pem'), KAFKA_SSL_KEY_FILE: tls('client.key') };
    const ssl = kafkaConnection(loadConfig({ env: { ...env, KAFKA_SSL_KEY_PASSWORD: 'x' } })).ssl;
    expect(ssl).toMatchObject({ cert: expect.stringContaining('BEGIN CERTIFICATE'), passphrase: 'x' });
    expect(() => kafkaConnection(loadConfig({ env: { KAFKA_SSL_CERT_FILE: tls('client.pem') } }))).toThrow(
      /kafka.sslCertFile and kafka.sslKeyFile go together/,
    );
    expect(() =>
      kafkaConnection(loadConfig({ env: { ...env, KAFKA_SSL_KEY_FILE: '/no/such/key.pem' } })),
    ).toThrow(/kafka.sslKeyFile = \/no\/such\/key.pem: cannot read/);
    const printed = printConfig(loadConfig({ env: { ...env, KAFKA_SSL_KEY_PASSWORD: 'hush' } }));
    expect(printed).toContain('sslKeyPassword: "***"');
    expect(printed).not.toContain('hush');
  });
});
