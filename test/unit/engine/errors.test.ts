import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../../src/engine/errors.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { DecodeError, SchemaRegistryError } from '../../../src/io/avro/errors.ts';
import { FileFormatError, FileUriError } from '../../../src/io/files/errors.ts';
import { OversizedMessageError, SinkWriteError } from '../../../src/io/kafka/errors.ts';
import { ModelError } from '../../../src/models/errors.ts';
import { ConfigError } from '../../../src/cli/config.ts';
import { ConllParseError } from '../../../src/text/conll.ts';
import { TextInputError } from '../../../src/text/sentences.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'work' ? [] : tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('StreamError, the one error base class', () => {
  it('carries stage, step, retriable (default false), a fix hint, the cause and the concrete class name', () => {
    const cause = new Error('socket hang up');
    const e = new StreamError('broker unreachable', {
      stage: 'source',
      step: 'kafka:abstracts',
      retriable: true,
      hint: 'start one with bioaug-stream broker',
      cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.stage, e.step, e.retriable, e.hint, e.cause]).toEqual([
      'StreamError',
      'source',
      'kafka:abstracts',
      true,
      'start one with bioaug-stream broker',
      cause,
    ]);
    expect(new StreamError('bad', { stage: 'input' }).retriable).toBe(false);
  });

  it('is the base of the typed errors, which keep their names, messages and retriable policy', () => {
    const cases: Array<[StreamError, string, string, boolean]> = [
      [new DecodeError('undecodable', 'bad bytes'), 'DecodeError', 'decode', false],
      [new SchemaRegistryError('registry down', true), 'SchemaRegistryError', 'registry', true],
      [new FileFormatError('conll', 'x.conll', 3, 'too few columns'), 'FileFormatError', 'input', false],
      [new FileUriError('no scheme'), 'FileUriError', 'config', false],
      [new OversizedMessageError(10, 5), 'OversizedMessageError', 'input', false],
      [new SinkWriteError('send failed', true), 'SinkWriteError', 'sink', true],
      [new ModelError('runtime', 'ORT failed'), 'ModelError', 'model', true],
      [new ModelError('bundle', 'missing model.onnx'), 'ModelError', 'model', false],
      [new ConfigError('bad key'), 'ConfigError', 'config', false],
      [new ConllParseError('s', 2, 'bad tag'), 'ConllParseError', 'input', false],
      [new TextInputError('control character', 'split'), 'TextInputError', 'text', false],
    ];
    for (const [e, name, stage, retriable] of cases) {
      expect(e).toBeInstanceOf(StreamError);
      expect([e.name, e.stage, e.retriable]).toEqual([name, stage, retriable]);
    }
    expect(new FileFormatError('conll', 'x.conll', 3, 'too few columns').message).toBe(
      'conll:x.conll line 3: too few columns',
    );
    expect(new OversizedMessageError(10, 5).hint).toMatch(/maxMessageBytes/);
  });

  it('no error class in src, topologies, training or bench extends Error directly', () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'topologies', 'training', 'bench'])
      for (const f of tsFiles(join(projectRoot, dir))) {
        if (f.endsWith(join('engine', 'errors.ts'))) continue;
        const text = readFileSync(f, 'utf8');
        for (const m of text.matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g))
          offenders.push(`${relative(projectRoot, f)}: ${m[1]}`);
      }
    expect(offenders).toEqual([]);
  });
});
