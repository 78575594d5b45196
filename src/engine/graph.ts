// The topology as a graph of its steps, recorded while build() wires it: each step operator, when
// applied to a stream, finds what that stream carries (a source, or the step that emitted it) and
// records the edge; its output stream is tagged with its own id for the next step to find. Nothing is
// listed by hand, so the graph is the one the topology built, branches and all. The walk back from a
// stream goes through RxJS's lifted operators (`map`, `tap`, ... keep a link to their source), so
// only operators that build a new Observable themselves (`branches`, `mergeBranches`, the step
// primitives, model steps) need to pass the tag on. Recording happens once per operator applied, never
// per record.
import type { Observable, OperatorFunction } from 'rxjs';
import type { Envelope } from './envelope.ts';
import type { Sink } from './types.ts';

/** A node of the graph: a named source, a step (its step id) or a named sink. */
export interface GraphNode {
  /** `source:<name>`, `step:<id>` or `sink:<name>` (a sink and a step may share a name). */
  id: string;
  kind: 'source' | 'step' | 'sink';
  name: string;
}

/** Data flows from `from` to `to` (node ids). */
export interface GraphEdge {
  from: string;
  to: string;
}

/** The recorded graph: nodes in the order they were wired, edges deduplicated. */
export interface GraphDescription {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** What a stream carries: the nodes whose output it is, on which graph. */
interface Tail {
  graph: TopologyGraph;
  from: readonly string[];
}

const tails = new WeakMap<object, Tail>();

/** The graph of one topology, filled while it is built (and while its deferred parts subscribe). */
export class TopologyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly edges = new Map<string, GraphEdge>();
  private cached: GraphDescription | null = null;

  /** Tags `stream` as the source `name`: the first step applied to it reads from that source. */
  source<S extends Observable<unknown>>(name: string, stream: S): S {
    const id = this.node('source', name);
    tails.set(stream, { graph: this, from: [id] });
    return stream;
  }

  /**
   * The sinks as build() should see them: each `write()` records the edge from its input's step to
   * the sink. Plain objects delegating to the given sinks (which the caller keeps and closes).
   */
  sinks<M extends Record<string, Sink<unknown>>>(sinks: M): M {
    const out: Record<string, Sink<unknown>> = {};
    for (const [name, sink] of Object.entries(sinks)) {
      const id = this.node('sink', name);
      out[name] = {
        get id() {
          return sink.id;
        },
        write: () => {
          const write = sink.write();
          return (source) => {
            const up = tailOf(source);
            if (up?.graph === this) this.link(up.from, id);
            return write(source);
          };
        },
        close: () => sink.close(),
      };
    }
    return out as M;
  }

  /** Nodes and edges recorded so far. */
  describe(): GraphDescription {
    this.cached ??= { nodes: [...this.nodes.values()], edges: [...this.edges.values()] };
    return this.cached;
  }

  /** @internal Adds a node (once) and returns its id. */
  node(kind: GraphNode['kind'], name: string): string {
    const id = `${kind}:${name}`;
    if (!this.nodes.has(id)) {
      this.nodes.set(id, { id, kind, name });
      this.cached = null;
    }
    return id;
  }

  /** @internal Adds edges from each of `from` to `to` (once each). */
  link(from: readonly string[], to: string): void {
    for (const f of from) {
      const key = `${f}\u0000${to}`;
      if (this.edges.has(key)) continue;
      this.edges.set(key, { from: f, to });
      this.cached = null;
    }
  }
}

let latest: TopologyGraph | null = null;

/**
 * The graph of the topology this process started last (runTopology registers it): process-wide like
 * the metrics registry, since a worker runs one topology; what the live console shows by default.
 */
export function latestGraph(): TopologyGraph | null {
  return latest;
}

/** @internal Registers `graph` as the latest (runTopology). */
export function setLatestGraph(graph: TopologyGraph): void {
  latest = graph;
}

/**
 * What `stream` carries, looked up through RxJS's lifted operators (each keeps its `source`); null
 * for a stream not built on a tagged source (unit tests over `of(...)`, a custom Observable).
 */
function tailOf(stream: Observable<unknown>): Tail | null {
  let s: unknown = stream;
  for (let depth = 0; s && depth < 1000; depth++) {
    const t = tails.get(s as object);
    if (t) return t;
    s = (s as { source?: unknown }).source;
  }
  return null;
}

/** Tags `stream` as carrying what `like` carries (for operators that build their own Observable). */
export function sameTail<S extends Observable<unknown>>(stream: S, like: Observable<unknown>): S {
  const t = tailOf(like);
  if (t) tails.set(stream, t);
  return stream;
}

/** Tags `stream` as carrying the union of what `inputs` carry (a merge of branches). */
export function unionTail<S extends Observable<unknown>>(stream: S, inputs: Observable<unknown>[]): S {
  let graph: TopologyGraph | null = null;
  const from = new Set<string>();
  for (const i of inputs) {
    const t = tailOf(i);
    if (!t || (graph && t.graph !== graph)) continue;
    graph = t.graph;
    for (const f of t.from) from.add(f);
  }
  if (graph) tails.set(stream, { graph, from: [...from] });
  return stream;
}

/**
 * Marks `operator` as the step `stepId` on the graph: applied to a stream, it records the edge from
 * that stream's source or step to `stepId` and tags its output as coming from `stepId`. Off a graph
 * (a stream not from a tagged source) it is `operator` itself. Applying it again (a deferred part
 * wired at subscribe time) records nothing new.
 */
export function asStep<A, B>(
  stepId: string,
  operator: OperatorFunction<Envelope<A>, Envelope<B>>,
): OperatorFunction<Envelope<A>, Envelope<B>> {
  return (source) => {
    const out = operator(source);
    const up = tailOf(source);
    if (up) {
      const id = up.graph.node('step', stepId);
      up.graph.link(up.from, id);
      tails.set(out, { graph: up.graph, from: [id] });
    }
    return out;
  };
}

/**
 * Applies `inner` to a stand-in carrying what `source` carries, without subscribing, so that steps an
 * operator wires only at subscribe time (a sub-pipeline per subscription) are on the graph at build
 * time; returns what the result carries (the inner pipeline's last steps), or null off a graph.
 */
export function probeSteps<A, B>(
  source: Observable<Envelope<A>>,
  inner: OperatorFunction<Envelope<A>, Envelope<B>>,
  standIn: Observable<Envelope<A>>,
): readonly string[] | null {
  const up = tailOf(source);
  if (!up) return null;
  tails.set(standIn, up);
  const t = tailOf(inner(standIn));
  return t?.graph === up.graph ? t.from : up.from;
}

/** @internal For step primitives that record an edge into themselves from what `probeSteps` found. */
export function linkInto(
  source: Observable<unknown>,
  from: readonly string[],
  stepId: string,
  out: Observable<unknown>,
): void {
  const up = tailOf(source);
  if (!up) return;
  const id = up.graph.node('step', stepId);
  up.graph.link(from, id);
  tails.set(out, { graph: up.graph, from: [id] });
}
