import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../../../src/io/dataPath.ts';

// The commands deploy/ and docs/operations.md run must be ones the CLI really has, with flags it accepts.
// The program is built the way src/cli/main.ts builds it: every command module under src/cli/commands registers
// itself. The `*Action.ts` files are what a command runs (imported when it runs) and register nothing.
let program: Command;
beforeAll(async () => {
  program = new Command('bioaug-stream');
  const dir = join(projectRoot, 'src/cli/commands');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('Action.ts'))) {
    const mod = (await import(join(dir, f))) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
}, 120_000);

const read = (p: string) => readFileSync(join(projectRoot, p), 'utf8');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function invocations(): Array<{ where: string; argv: string[] }> {
  const out: Array<{ where: string; argv: string[] }> = [];
  const compose = parseAllDocuments(read('deploy/docker-compose.yml'), { merge: true })[0]!.toJS() as Doc;
  for (const [name, svc] of Object.entries(compose.services as Record<string, Doc>)) {
    if (String(svc.image ?? '').startsWith('bioaug-stream') && Array.isArray(svc.command)) {
      out.push({ where: `docker-compose ${name}`, argv: svc.command as string[] });
    }
  }
  for (const doc of parseAllDocuments(read('deploy/k8s/base/deployments.yaml'))) {
    const d = doc.toJS() as Doc;
    out.push({
      where: `k8s ${d.metadata.name as string}`,
      argv: d.spec.template.spec.containers[0].args as string[],
    });
  }
  // Runbook lines: `bioaug-stream <command> ...` inside code blocks, shell-split on spaces.
  const docs = read('docs/operations.md');
  for (const block of docs.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)) {
    const text = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const line of text.split('\n')) {
      const m = /\bbioaug-stream ((?:[^#\s]|\s(?!#))+)/.exec(line);
      if (m) out.push({ where: `docs/operations.md: ${line.trim()}`, argv: m[1]!.trim().split(/\s+/) });
    }
  }
  for (const m of docs.matchAll(/`bioaug-stream ([^`]+)`/g)) {
    out.push({ where: `docs/operations.md: ${m[0]}`, argv: m[1]!.split(/\s+/) });
  }
  return out;
}

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let cmd = program;
  let i = 0;
  for (; i < argv.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === argv[i] || c.aliases().includes(argv[i]!));
    if (!sub) break;
    cmd = sub;
  }
  return cmd === program ? undefined : { cmd, rest: argv.slice(i) };
}

function longOptions(cmd: Command): Set<string> {
  const names = new Set<string>(['--help']);
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.options) {
      if (o.long) names.add(o.long);
      if (o.short) names.add(o.short);
    }
  }
  return names;
}

describe('CLI invocations in deploy/ and docs/operations.md', () => {
  it('finds invocations in compose, k8s and the runbook', () => {
    const where = invocations().map((i) => i.where);
    expect(where.filter((w) => w.startsWith('docker-compose')).length).toBeGreaterThanOrEqual(4);
    expect(where.filter((w) => w.startsWith('k8s')).length).toBe(3);
    expect(where.filter((w) => w.startsWith('docs')).length).toBeGreaterThanOrEqual(2);
  });

  it('every invocation names a registered command and only flags it accepts', () => {
    const problems: string[] = [];
    for (const { where, argv } of invocations()) {
      const found = findCommand(argv.filter((a) => !a.includes('...')));
      if (!found) {
        problems.push(
          `${where}: no command "${argv[0]}" (have: ${program.commands.map((c) => c.name()).join(', ')})`,
        );
        continue;
      }
      const valid = longOptions(found.cmd);
      for (const a of found.rest) {
        const flag = a.split('=')[0]!;
        if (flag.startsWith('-') && !valid.has(flag)) {
          problems.push(
            `${where}: ${found.cmd.name()} has no option ${flag} (has: ${[...valid].join(', ')})`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every `run <topology>` names each source and sink the topology declares, and nothing else', async () => {
    const problems: string[] = [];
    for (const { where, argv } of invocations()) {
      if (argv[0] !== 'run' || !argv[1] || argv.some((a) => a.includes('...') || a === '--print-config'))
        continue;
      const mod = (await import(join(projectRoot, 'topologies', `${argv[1]}.ts`))) as {
        streamNames: { sources: readonly string[]; sinks: readonly string[] };
      };
      for (const [flag, declared] of [
        ['--source', mod.streamNames.sources],
        ['--sink', mod.streamNames.sinks],
      ] as const) {
        const given = argv
          .flatMap((a, i) => (argv[i - 1] === flag ? [a] : []))
          .map(
            (v) =>
              /^([A-Za-z][\w-]*)=/.exec(v)?.[1] ?? (declared.length === 1 ? declared[0] : `(unnamed ${v})`),
          );
        if ([...given].sort().join() !== [...declared].sort().join()) {
          problems.push(
            `${where}: ${flag} gives [${given.join(', ')}], topology declares [${declared.join(', ')}]`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
