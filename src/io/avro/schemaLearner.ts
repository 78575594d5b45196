// Schema ids registered after the codec started (e.g. by an upgraded producer), learned from the
// registry on a miss: lookups of one id are shared while in flight, misses are remembered for a while,
// and the number of ids learned (and misses held) is bounded against id floods.
import { WIRE_HEADER_BYTES } from './wireFormat.ts';
import type { RegistryClient } from './registry.ts';
import { isSchemaName, typeOf } from './schemas.ts';
import type { WriterSchemas } from './writerSchemas.ts';

/** Most schema ids a codec learns from the registry after start (memory bound against id floods). */
export const MAX_LEARNED_IDS = 1024;
/** How long a registry miss (unknown id) is remembered before it is asked again. */
const MISS_TTL_MS = 30_000;
/** How long a failed registry lookup (registry down) is remembered before it is tried again. */
const ERROR_TTL_MS = 2_000;

export class SchemaLearner {
  private readonly lookups = new Map<number, Promise<void>>();
  private readonly misses = new Map<number, { until: number; why: string }>();
  private learned = 0;

  constructor(
    private readonly registry: RegistryClient,
    private readonly writers: WriterSchemas,
  ) {}

  /** Why an id is unknown, when a lookup said so (else undefined). */
  whyMissing(id: number): string | undefined {
    return this.misses.get(id)?.why;
  }

  /**
   * A lookup of the buffer's schema id, or null when there is nothing to learn (known id, not wire
   * format, a recent miss, the bound reached). Never rejects: a failed lookup is a miss with its reason.
   */
  learnSchemaOf(buf: Buffer): Promise<void> | null {
    if (!Buffer.isBuffer(buf) || buf.length < WIRE_HEADER_BYTES || buf[0] !== 0) return null;
    const id = buf.readUInt32BE(1);
    if (this.writers.has(id)) return null;
    const shared = this.lookups.get(id);
    if (shared) return shared;
    const m = this.misses.get(id);
    if (m && m.until > Date.now()) return null;
    if (this.learned >= MAX_LEARNED_IDS) {
      this.miss(
        id,
        `not learned: ${MAX_LEARNED_IDS} ids already learned from the registry since start`,
        MISS_TTL_MS,
      );
      return null;
    }
    const p = this.lookUp(id).finally(() => this.lookups.delete(id));
    this.lookups.set(id, p);
    return p;
  }

  private async lookUp(id: number): Promise<void> {
    try {
      const json = await this.registry.schemaById(id);
      if (!json) return this.miss(id, 'not in the registry', MISS_TTL_MS);
      const t = typeOf(json);
      const name = (t.name ?? '').slice((t.name ?? '').lastIndexOf('.') + 1);
      if (!isSchemaName(name))
        return this.miss(id, `the registry has it as ${t.name}, not one of ours`, MISS_TTL_MS);
      this.writers.add(id, name, t);
      this.learned += 1;
      this.misses.delete(id);
    } catch (e) {
      this.miss(id, `registry lookup failed: ${(e as Error).message}`, ERROR_TTL_MS);
    }
  }

  private miss(id: number, why: string, ttl: number): void {
    if (this.misses.size >= MAX_LEARNED_IDS) this.misses.delete(this.misses.keys().next().value as number);
    this.misses.set(id, { until: Date.now() + ttl, why });
  }
}
