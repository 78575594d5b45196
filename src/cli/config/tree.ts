/** Plain nested objects keyed by dotted config paths (kafka.producer.batchSize), and where each key came from. */
export type Tree = Record<string, unknown>;

export function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergeInto(
  target: Tree,
  source: Tree,
  prefix: string[],
  origins: Map<string, string>,
  origin: string,
) {
  for (const [k, v] of Object.entries(source)) {
    const path = [...prefix, k];
    if (isTree(v)) {
      if (!isTree(target[k])) target[k] = {};
      origins.set(path.join('.'), origin);
      mergeInto(target[k] as Tree, v, path, origins, origin);
    } else {
      target[k] = v;
      origins.set(path.join('.'), origin);
    }
  }
}

export function setPath(
  target: Tree,
  key: string,
  value: unknown,
  origins: Map<string, string>,
  origin: string,
) {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
  origins.set(key, origin);
}

export function getPath(root: unknown, path: string[]): unknown {
  let node = root;
  for (const p of path) {
    if (!isTree(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}
