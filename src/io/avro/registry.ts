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

/** A registry client over plain fetch (Confluent REST API v1; Redpanda and Apicurio's ccompat speak it too). */
export function restRegistry(url: string, fetchImpl: typeof fetch = fetch): RegistryClient {
  const base = url.replace(/\/+$/, '');
  async function call(path: string, init?: RequestInit): Promise<Response> {
    try {
      return await fetchImpl(`${base}${path}`, {
        ...init,
        headers: { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE },
      });
    } catch (e) {
      throw new SchemaRegistryError(`schema registry ${base}: ${(e as Error).message}`, true);
    }
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
          `schema registry ${base}: registering ${subject} failed with HTTP ${res.status}: ${await res.text()}`,
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
