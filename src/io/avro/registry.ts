import { SchemaRegistryError } from './errors.ts';

/** The two Confluent Schema Registry REST calls the codec needs. */
export interface RegistryClient {
  /** Registers (or finds) a schema under a subject; returns its global id. */
  register(subject: string, schema: Record<string, unknown>): Promise<number>;
  /** Fetches the schema JSON of a global id, or null when the registry does not know it. */
  schemaById(id: number): Promise<Record<string, unknown> | null>;
  /** Every registered version of a subject as {id, schema}; empty when the subject is unknown. */
  versions(subject: string): Promise<Array<{ id: number; schema: Record<string, unknown> }>>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** HTTP basic credentials of a schema registry (Confluent Cloud: API key and secret). */
export interface RegistryAuth {
  username: string;
  password: string;
}

/** Options of `restRegistry`. */
export interface RestRegistryOptions {
  /** Basic credentials; default: the user:password in the URL, if any. */
  auth?: RegistryAuth;
  /** Injected fetch (tests). */
  fetch?: typeof fetch;
}

/**
 * Splits credentials out of a registry URL: fetch refuses a URL with user:password in it, and an
 * error message must never print them. Returns the URL without them and the credentials found.
 */
export function splitRegistryUrl(url: string): { base: string; auth?: RegistryAuth } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SchemaRegistryError(
      `schema registry URL is not a valid URL (${url.replace(/\/\/[^/@]*@/, '//***@')})`,
      false,
      'set schemaRegistry.url (--schema-registry, SCHEMA_REGISTRY_URL) to http(s)://host:port',
    );
  }
  const auth =
    parsed.username || parsed.password
      ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
      : undefined;
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  return auth ? { base, auth } : { base };
}

/** A registry client over plain fetch (Confluent REST API v1; Redpanda and Apicurio's ccompat speak it too). */
export function restRegistry(url: string, opts: RestRegistryOptions = {}): RegistryClient {
  const fetchImpl = opts.fetch ?? fetch;
  const split = splitRegistryUrl(url);
  // `base` never holds credentials, so every message below may name it.
  const base = split.base;
  const auth = opts.auth ?? split.auth;
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE };
  if (auth)
    headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  // Belt and braces: whatever a lower layer puts in a message, the password does not get out.
  const scrub = (text: string): string =>
    auth && auth.password.length > 0 ? text.split(auth.password).join('***') : text;
  async function call(path: string, init?: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, { ...init, headers });
    } catch (e) {
      throw new SchemaRegistryError(`schema registry ${base}: ${scrub((e as Error).message)}`, true);
    }
    if (res.status === 401 || res.status === 403) {
      throw new SchemaRegistryError(
        `schema registry ${base}: HTTP ${res.status} ${res.status === 401 ? '(unauthorized)' : '(forbidden)'}${auth ? ` for user ${auth.username}` : ' (no credentials given)'}`,
        false,
        'set schemaRegistry.username and schemaRegistry.password (SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD)',
      );
    }
    return res;
  }
  return {
    async register(subject, schema) {
      const res = await call(`/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        body: JSON.stringify({ schema: JSON.stringify(schema) }),
      });
      if (!res.ok) {
        // 409 = incompatible with the subject's compatibility rule: retrying will not help.
        throw new SchemaRegistryError(
          `schema registry ${base}: registering ${subject} failed with HTTP ${res.status}: ${scrub(await res.text())}`,
          res.status >= 500,
        );
      }
      const body = (await res.json()) as { id?: unknown };
      if (typeof body.id !== 'number') {
        throw new SchemaRegistryError(`schema registry ${base}: no id in reply for ${subject}`, false);
      }
      return body.id;
    },
    async schemaById(id) {
      const res = await call(`/schemas/ids/${id}`);
      if (res.status === 404) return null;
      if (!res.ok) {
        throw new SchemaRegistryError(
          `schema registry ${base}: fetching schema id ${id} failed with HTTP ${res.status}`,
          res.status >= 500,
        );
      }
      const body = (await res.json()) as { schema?: unknown; schemaType?: string };
      if (body.schemaType && body.schemaType !== 'AVRO') return null;
      if (typeof body.schema !== 'string') return null;
      return JSON.parse(body.schema) as Record<string, unknown>;
    },
    async versions(subject) {
      const s = encodeURIComponent(subject);
      const res = await call(`/subjects/${s}/versions`);
      if (res.status === 404) return [];
      if (!res.ok) {
        throw new SchemaRegistryError(
          `schema registry ${base}: listing versions of ${subject} failed with HTTP ${res.status}`,
          res.status >= 500,
        );
      }
      const out: Array<{ id: number; schema: Record<string, unknown> }> = [];
      for (const v of (await res.json()) as number[]) {
        const r = await call(`/subjects/${s}/versions/${v}`);
        if (!r.ok) continue;
        const body = (await r.json()) as { id?: unknown; schema?: unknown; schemaType?: string };
        if (typeof body.id !== 'number' || typeof body.schema !== 'string') continue;
        if (body.schemaType && body.schemaType !== 'AVRO') continue;
        out.push({ id: body.id, schema: JSON.parse(body.schema) as Record<string, unknown> });
      }
      return out;
    },
  };
}
