import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/cli/config.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { metrics, registry } from '../../../src/obs/metrics.ts';
import { startObservabilityServer, type ObservabilityServer } from '../../../src/obs/server.ts';

const deployDir = join(projectRoot, 'deploy');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const files = walk(deployDir);
const rel = (p: string) => relative(projectRoot, p);
const read = (p: string) => readFileSync(join(projectRoot, p), 'utf8');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlDocs(p: string): Doc[] {
  const docs = parseAllDocuments(read(p), { merge: true });
  return docs.map((d) => {
    if (d.errors.length) throw new Error(`${p}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

const dashboard = JSON.parse(read('deploy/grafana/dashboards/bioaug-stream.json')) as Doc;
const compose = yamlDocs('deploy/docker-compose.yml')[0]!;
const k8sDocs = ['deployments', 'services', 'pdb', 'scaledobjects'].flatMap((f) =>
  yamlDocs(`deploy/k8s/base/${f}.yaml`),
);
const ofKind = (kind: string) => k8sDocs.filter((d) => d.kind === kind);

// The subset of RFC 6902 kustomize patches here use (test, replace, remove), to check an overlay's result.
function applyJsonPatch(doc: Doc, ops: Doc[]): Doc {
  for (const op of ops) {
    const parts = (op.path as string).split('/').slice(1);
    const last = parts.pop()!;
    let node: Doc = doc;
    for (const p of parts) {
      node = node[p] as Doc;
      if (node === undefined) throw new Error(`patch path ${op.path as string} does not exist`);
    }
    if (!(last in node)) throw new Error(`patch path ${op.path as string} does not exist`);
    if (op.op === 'test') expect(node[last], op.path as string).toEqual(op.value);
    else if (op.op === 'replace') node[last] = op.value;
    else if (op.op === 'remove') delete node[last];
    else throw new Error(`unsupported patch op ${op.op as string}`);
  }
  return doc;
}

function panelExprs(): string[] {
  const exprs: string[] = [];
  const visit = (panels: Doc[]) => {
    for (const p of panels) {
      for (const t of (p.targets ?? []) as Doc[]) exprs.push(String(t.expr));
      if (p.panels) visit(p.panels as Doc[]);
    }
  };
  visit(dashboard.panels as Doc[]);
  return exprs;
}

describe('deploy/ files parse', () => {
  it('finds the expected files', () => {
    const names = files.map(rel);
    for (const f of [
      'deploy/Dockerfile',
      'deploy/docker-compose.yml',
      'deploy/prometheus/prometheus.yml',
      'deploy/grafana/dashboards/bioaug-stream.json',
      'deploy/k8s/base/kustomization.yaml',
      'deploy/k8s/base/scaledobjects.yaml',
    ]) {
      expect(names).toContain(f);
    }
  });

  it.each(files.filter((f) => /\.(ya?ml|json)$/.test(f)).map(rel))('%s parses', (p) => {
    if (p.endsWith('.json')) expect(() => JSON.parse(read(p))).not.toThrow();
    else {
      const docs = yamlDocs(p);
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) expect(d).toBeTypeOf('object');
    }
  });

  it('the shipped config files validate against the config schema and each topology schema', async () => {
    const schemas: Record<string, { parse(v: unknown): unknown }> = {
      'ner-tagging': (await import('../../../topologies/ner-tagging.ts')).NerTaggingConfig,
      augment: (await import('../../../topologies/augment.ts')).AugmentTopologyConfig,
      ingest: (await import('../../../topologies/ingest.ts')).IngestConfig,
    };
    for (const p of [
      'deploy/config/bioaug.yaml',
      'deploy/k8s/base/config.yaml',
      'deploy/k8s/overlays/cpu-only/config.yaml',
    ]) {
      const c = loadConfig({ file: join(projectRoot, p), env: {} });
      expect(c.metrics.port).toBe(9464);
      // Probes and Prometheus reach a container from outside: its config opens the port beyond loopback.
      expect(c.metrics.host).toBe('0.0.0.0');
      expect(Object.keys(c.topologies).sort()).toEqual(['augment', 'ingest', 'ner-tagging']);
      for (const [name, section] of Object.entries(c.topologies)) {
        expect(() => schemas[name]!.parse(section), `${p} topologies.${name}`).not.toThrow();
      }
      const providers = JSON.stringify(c.topologies);
      expect(providers.includes('cuda')).toBe(p === 'deploy/k8s/base/config.yaml');
    }
  });
});

describe('metrics used by deploy/ exist in a live /metrics scrape', () => {
  let server: ObservabilityServer;
  let scrape = '';
  beforeAll(async () => {
    server = await startObservabilityServer({ port: 0, host: '127.0.0.1', readiness: () => true });
    // Touch every labelled metric once so the scrape carries samples, as a running engine would.
    metrics.consumerLag.set({ group: 'g', topic: 't', partition: '0' }, 3);
    metrics.stepLatency.observe({ step: 's' }, 0.01);
    await fetch(`${server.url}/readyz`);
    scrape = await (await fetch(`${server.url}/metrics`)).text();
  });
  afterAll(async () => {
    await server?.close();
  });

  function exported(): Map<string, string> {
    // sample name -> family name, from the scrape's # TYPE lines (histograms expose _bucket/_sum/_count)
    const names = new Map<string, string>();
    for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      names.set(name, name);
      if (type === 'histogram' || type === 'summary') {
        for (const s of ['_bucket', '_sum', '_count']) names.set(name + s, name);
      }
    }
    return names;
  }

  it('every bioaug_* name in deploy/ (dashboard, KEDA, Prometheus) is exported', () => {
    const names = exported();
    expect(names.has('bioaug_consumer_lag')).toBe(true);
    const used = new Map<string, string>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bbioaug_[a-z0-9_]+\b/g)) used.set(m[0], rel(f));
    }
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter(([n]) => !names.has(n)).map(([n, f]) => `${n} (${f})`);
    expect(missing).toEqual([]);
  });

  it('the dashboard covers throughput, lag, in-flight, paused, latency percentiles, batches, dead letters, compute', () => {
    const all = panelExprs().join('\n');
    for (const needle of [
      'bioaug_messages_consumed_total',
      'bioaug_messages_produced_total',
      'bioaug_consumer_lag',
      'bioaug_in_flight',
      'bioaug_paused_partitions',
      'histogram_quantile(0.95, sum by (le, step) (rate(bioaug_step_latency_seconds_bucket',
      'histogram_quantile(0.99',
      'bioaug_batch_size_bucket',
      'bioaug_dead_letters_total',
      'sum by (step, provider) (rate(bioaug_batch_compute_seconds_sum',
    ]) {
      expect(all).toContain(needle);
    }
  });

  it('every label a dashboard query groups or filters by belongs to a metric in that query', () => {
    const prometheusLabels = new Set(['job', 'instance', 'le', 'topology']);
    const problems: string[] = [];
    const names = exported();
    for (const expr of panelExprs()) {
      expect(expr.split('(').length, expr).toBe(expr.split(')').length);
      expect(expr.split('{').length, expr).toBe(expr.split('}').length);
      const labels = new Set<string>();
      for (const m of expr.matchAll(/\bby \(([^)]*)\)/g))
        m[1]!.split(',').forEach((l) => labels.add(l.trim()));
      for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
        for (const l of m[1]!.matchAll(/([a-z_]+)\s*=~?/g)) labels.add(l[1]!);
      }
      const known = new Set<string>(prometheusLabels);
      for (const m of expr.matchAll(/\bbioaug_[a-z0-9_]+\b/g)) {
        const family = names.get(m[0]) ?? m[0];
        const metric = registry.getSingleMetric(family) as unknown as { labelNames?: string[] } | undefined;
        for (const l of metric?.labelNames ?? []) known.add(l);
      }
      for (const l of labels) if (!known.has(l)) problems.push(`${l} in ${expr}`);
    }
    expect(problems).toEqual([]);
  });

  it('dashboard panels use the provisioned Prometheus datasource, with unique ids', () => {
    const ds = yamlDocs('deploy/grafana/provisioning/datasources/prometheus.yml')[0]!.datasources[0] as Doc;
    const ids = new Set<number>();
    for (const p of dashboard.panels as Doc[]) {
      expect(ids.has(p.id as number)).toBe(false);
      ids.add(p.id as number);
      if (p.type !== 'row') expect(p.datasource.uid).toBe(ds.uid);
    }
    const provider = yamlDocs('deploy/grafana/provisioning/dashboards/bioaug-stream.yml')[0]!
      .providers[0] as Doc;
    const mount = (compose.services.grafana.volumes as string[]).find((v) =>
      v.startsWith('./grafana/dashboards:'),
    );
    expect(mount?.split(':')[1]).toBe(provider.options.path);
  });
});

describe('docker-compose', () => {
  const services = compose.services as Record<string, Doc>;
  const topologies = ['ner-tagging', 'augment', 'ingest'];

  it('runs Kafka in KRaft mode, creates topics once, runs the three topologies, a producer, Prometheus, Grafana', () => {
    expect(services.kafka!.image).toMatch(/^apache\/kafka:/);
    expect(services.kafka!.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    for (const t of topologies) expect(services[t]!.command.slice(0, 2)).toEqual(['run', t]);
    expect(services['produce-samples']!.command[0]).toBe('produce');
    expect(services.prometheus!.image).toMatch(/^prom\/prometheus/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana/);
    expect(services['create-topics']!.restart).toBe('no');
  });

  it('creates every kafka: topic the services and KEDA refer to, with a dead-letter topic per input', () => {
    const script = (services['create-topics']!.command as string[]).join('\n');
    const created = new Set(
      /for t in ([^;]*);/s
        .exec(script)![1]!
        .split(/\s+|\\/)
        .filter(Boolean),
    );
    const referenced = new Set<string>();
    for (const s of Object.values(services)) {
      for (const arg of (s.command ?? []) as string[]) {
        const m = /^(?:[a-z]+=)?kafka:([^?]+)/.exec(String(arg));
        if (m) referenced.add(m[1]!);
      }
      if (s.command?.[0] === 'produce') referenced.add(s.command[s.command.indexOf('--topic') + 1] as string);
    }
    for (const so of ofKind('ScaledObject')) referenced.add(so.spec.triggers[0].metadata.topic as string);
    expect(referenced.size).toBeGreaterThan(5);
    for (const t of referenced) expect(created, t).toContain(t);
    for (const input of ['pubmed.abstracts', 'labeled.sentences']) expect(created).toContain(`${input}.dlq`);
  });

  it('Prometheus scrapes each topology service on its metrics port', () => {
    const prom = yamlDocs('deploy/prometheus/prometheus.yml')[0]!;
    const targets = (prom.scrape_configs as Doc[])
      .find((j) => j.job_name === 'bioaug-stream')!
      .static_configs.flatMap((s: Doc) => s.targets as string[]);
    expect(targets.sort()).toEqual(topologies.map((t) => `${t}:9464`).sort());
    for (const t of topologies) {
      expect(services[t]!.environment.METRICS_PORT).toBe('9464');
      expect(services[t]!.environment.KAFKA_GROUP_ID).toBe(`bioaug-${t}`);
    }
  });
});

describe('kubernetes manifests', () => {
  const deployments = ofKind('Deployment');
  const partitions = Number(
    (compose.services as Record<string, Doc>)['create-topics']!.environment.PARTITIONS,
  );

  it('the kustomization lists files that exist', () => {
    const k = yamlDocs('deploy/k8s/base/kustomization.yaml')[0]!;
    for (const r of [...(k.resources as string[]), ...k.configMapGenerator.flatMap((g: Doc) => g.files)]) {
      expect(existsSync(join(deployDir, 'k8s/base', r)), r).toBe(true);
    }
  });

  it('the cpu-only overlay patches augment and ingest to CPU: no GPU, cpu image, cpu provider', () => {
    const k = yamlDocs('deploy/k8s/overlays/cpu-only/kustomization.yaml')[0]!;
    expect(k.resources).toEqual(['../../base']);
    const patch = yamlDocs(`deploy/k8s/overlays/cpu-only/${k.patches[0].path}`)[0] as unknown as Doc[];
    const targets = new RegExp(`^(${k.patches[0].target.name})$`);
    const patched = deployments
      .filter((d) => targets.test(d.metadata.name as string))
      .map((d) => applyJsonPatch(structuredClone(d), patch));
    expect(patched.map((d) => d.metadata.name).sort()).toEqual(['augment', 'ingest']);
    for (const d of patched) {
      const c = d.spec.template.spec.containers[0] as Doc;
      expect(JSON.stringify(d)).not.toContain('nvidia.com/gpu');
      expect(c.image).toBe('bioaug-stream-cpu');
    }
    expect(k.images.map((i: Doc) => i.name)).toContain('bioaug-stream-cpu');
    // The overlay's config replaces the base ConfigMap (which puts augment and ingest on cuda).
    expect(k.configMapGenerator[0]).toMatchObject({ name: 'bioaug-config', behavior: 'replace' });
  });

  it('each topology Deployment probes /healthz and /readyz, mounts config, and takes SASL from a Secret', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['augment', 'ingest', 'ner-tagging']);
    for (const d of deployments) {
      const pod = d.spec.template.spec as Doc;
      const c = pod.containers[0] as Doc;
      expect(c.args.slice(0, 2)).toEqual(['run', d.metadata.name]);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      const portName = c.livenessProbe.httpGet.port as string;
      expect(c.ports.find((p: Doc) => p.name === portName).containerPort).toBe(9464);
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      const env = new Map<string, Doc>((c.env as Doc[]).map((e) => [e.name as string, e]));
      for (const v of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
        expect(env.get(v)?.valueFrom?.secretKeyRef?.name).toBe('bioaug-kafka');
      }
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.volumes.find((v: Doc) => v.configMap)?.configMap.name).toBe('bioaug-config');
      expect(d.spec.selector.matchLabels).toEqual(
        Object.fromEntries(
          Object.entries(d.spec.template.metadata.labels as Doc).filter(
            ([k]) => k in d.spec.selector.matchLabels,
          ),
        ),
      );
    }
  });

  it('model-heavy topologies (augment, ingest) request a GPU; ner-tagging does not', () => {
    const gpu = (name: string) =>
      deployments.find((d) => d.metadata.name === name)!.spec.template.spec.containers[0].resources.limits[
        'nvidia.com/gpu'
      ];
    expect(gpu('augment')).toBe('1');
    expect(gpu('ingest')).toBe('1');
    expect(gpu('ner-tagging')).toBeUndefined();
  });

  it('a KEDA ScaledObject per Deployment scales on its group lag, capped at the partition count', () => {
    const scaled = ofKind('ScaledObject');
    expect(scaled).toHaveLength(deployments.length);
    for (const so of scaled) {
      const d = deployments.find((x) => x.metadata.name === so.spec.scaleTargetRef.name)!;
      expect(d).toBeDefined();
      const c = d.spec.template.spec.containers[0] as Doc;
      const trigger = so.spec.triggers[0] as Doc;
      expect(trigger.type).toBe('kafka');
      expect(trigger.metadata.consumerGroup).toBe(c.env.find((e: Doc) => e.name === 'KAFKA_GROUP_ID').value);
      expect(c.args[c.args.indexOf('--source') + 1]).toMatch(
        new RegExp(`^([a-z]+=)?kafka:${trigger.metadata.topic}$`),
      );
      expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
      expect(so.spec.maxReplicaCount).toBe(partitions);
      expect(trigger.authenticationRef.name).toBe(ofKind('TriggerAuthentication')[0]!.metadata.name);
    }
  });

  it('a PodDisruptionBudget and a metrics Service select each Deployment', () => {
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels as Doc;
      const selects = (sel: Doc) => Object.entries(sel).every(([k, v]) => labels[k] === v);
      expect(ofKind('PodDisruptionBudget').filter((p) => selects(p.spec.selector.matchLabels))).toHaveLength(
        1,
      );
      const svc = ofKind('Service').filter((s) => selects(s.spec.selector));
      expect(svc).toHaveLength(1);
      expect(svc[0]!.spec.ports[0].targetPort).toBe('metrics');
    }
  });
});

describe('Dockerfile', () => {
  const text = read('deploy/Dockerfile');
  const stages = [...text.matchAll(/^FROM \S+(?: AS (\S+))?$/gm)].map((m) => m[1]).filter(Boolean);

  it('is multi-stage with cpu and cuda targets, non-root, HEALTHCHECK on /healthz, CLI entrypoint', () => {
    expect(stages).toEqual(expect.arrayContaining(['deps', 'cpu', 'cuda']));
    expect(text).toMatch(/^HEALTHCHECK[^\n]*\\\n[^\n]*\/healthz/m);
    expect(text).toMatch(/^USER 10001:10001$/m);
    expect(text).not.toMatch(/^USER (root|0)\b/m);
    expect(text).toContain('ENTRYPOINT ["node", "src/cli/bin.mjs"]');
    expect(text).toContain('COPY models ./models');
    // tsx runs the CLI at runtime, so --omit=dev must keep it: it has to be a production dependency.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('copies only paths that exist and refers only to stages it defines', () => {
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(join(projectRoot, src)), src).toBe(true);
    }
    for (const m of text.matchAll(/--from=(\S+)/g)) {
      expect([...stages, 'node-binary']).toContain(m[1]);
    }
  });

  const docker = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
  if (!docker) {
    console.warn('deploy.test: skipping `docker build` (no Docker engine: `docker info` failed)');
  }
  it.skipIf(!docker)(
    'docker build of the cpu target succeeds and the image runs the CLI',
    () => {
      execFileSync(
        'docker',
        ['build', '-f', 'deploy/Dockerfile', '--target', 'cpu', '-t', 'bioaug-stream:test', '.'],
        {
          cwd: projectRoot,
          stdio: 'inherit',
          timeout: 900_000,
        },
      );
      const user = execFileSync('docker', ['run', '--rm', '--entrypoint', 'id', 'bioaug-stream:test', '-u'])
        .toString()
        .trim();
      expect(user).toBe('10001');
      const help = execFileSync('docker', ['run', '--rm', 'bioaug-stream:test', '--help']).toString();
      expect(help).toContain('bioaug-stream');
    },
    960_000,
  );
});
