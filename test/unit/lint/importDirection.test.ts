// The import-direction rule of eslint.config.js, run through ESLint's API with the project's own
// config: upward and sideways imports fail, the allowed directions pass, and the tree holds.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../src/io/dataPath.ts';

const RULE = 'layers/import-direction';
const eslint = new ESLint({ cwd: projectRoot });

/** Messages of the rule for `code` linted as if it were the file `path` (project-relative). */
async function problems(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(projectRoot, path) });
  return (r?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('lint: imports point down only', () => {
  it.each([
    [
      'src/obs/fixture.ts',
      "import type { Config } from '../cli/config.ts';",
      /src\/obs may not import src\/cli/,
    ],
    [
      'src/eval/fixture.ts',
      "import { build } from '../../topologies/ner-tagging.ts';",
      /only src\/cli may import topologies/,
    ],
    [
      'src/models/fixture.ts',
      "import { dataPath } from '../io/dataPath.ts';",
      /may not import its peer src\/io/,
    ],
    [
      'src/augment/fixture.ts',
      "import { ModelError } from '../models/errors.ts';",
      /src\/augment may not import/,
    ],
    [
      'src/text/fixture.ts',
      "import { metrics } from '../obs/metrics.ts';\nexport * from '../io/wiring.ts';",
      /src\/io/,
    ],
    [
      'src/engine/fixture.ts',
      "export const m = () => import('../cli/main.ts');",
      /src\/engine may not import src\/cli/,
    ],
    [
      'topologies/fixture.ts',
      "import { runTrain } from '../training/run.ts';",
      /topologies\/ imports src only/,
    ],
    [
      'src/io/fixture.ts',
      "import { startTestBroker } from '../../test/helpers/kafkaBroker.ts';",
      /test code/,
    ],
  ])('%s: %s fails', async (path, code, why) => {
    const found = await problems(path, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(why);
  });

  it.each([
    ['src/cli/fixture.ts', "import { build } from '../../topologies/ner-tagging.ts';"],
    ['src/text/fixture.ts', "import type { PubmedArticle } from '../io/avro/types.generated.ts';"],
    ['src/models/fixture.ts', "import { linearize } from '../augment/bioaug/linearize.ts';"],
    ['training/fixture.ts', "import { build } from '../topologies/ingest.ts';"],
    ['test/unit/fixture.ts', "import { main } from '../../src/cli/main.ts';"],
    ['src/io/files/fixture.ts', "import { bioToSpans } from '../../text/bio.ts';\nimport './conll.ts';"],
  ])('%s: %s passes', async (path, code) => {
    expect(await problems(path, code)).toEqual([]);
  });

  it('holds on the source tree', async () => {
    const results = await eslint.lintFiles(['src', 'topologies', 'training', 'bench']);
    const found = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === RULE).map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(found).toEqual([]);
  }, 120_000);
});
