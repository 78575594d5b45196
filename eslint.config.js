import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));

// Imports point down only (CONTRIBUTING.md). Inside src the layers are
// cli > eval, models, augment, io, console > text > engine > obs: a folder imports the folders below
// it and not its peers, with one exception: models may import augment, because the seq2seq
// generation operator (models/seq2seq) corrupts and de-linearizes in BioAug's format. src/cli is the
// one part of src that may import topologies/ and training/; topologies/ import src only; training/
// imports src and topologies/; bench/ imports those three; test/ imports anything and nothing
// imports test/. The Avro types generated from schemas/ are the bottom of the stack: any layer may
// import them.
const BELOW_TEXT = ['text', 'engine', 'obs'];
const SRC_MAY_IMPORT = {
  obs: [],
  engine: ['obs'],
  text: ['engine', 'obs'],
  eval: BELOW_TEXT,
  augment: BELOW_TEXT,
  io: BELOW_TEXT,
  console: BELOW_TEXT,
  models: ['augment', ...BELOW_TEXT],
  cli: ['eval', 'models', 'augment', 'io', 'console', ...BELOW_TEXT],
};
const LAYER_ORDER =
  'cli > eval, models, augment, io, console > text > engine > obs; models may import augment';
const SCHEMA_TYPES = 'src/io/avro/types.generated.ts';
const MAY_IMPORT = {
  topologies: ['src'],
  training: ['src', 'topologies'],
  bench: ['src', 'topologies', 'training'],
};

/** The layer of a project-relative path: `src/<folder>`, or its top-level folder. */
function layerOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  return parts[0];
}

/** Why importing `target` from `from` breaks the direction, or null when it may. */
function violation(from, target) {
  if (target === SCHEMA_TYPES) return null;
  const a = layerOf(from);
  const b = layerOf(target);
  if (a === b || a === 'test' || a === 'src') return null;
  if (b === 'test') return `${a} may not import test code (${target}): test helpers stay under test/`;
  if (a.startsWith('src/')) {
    const allowed = SRC_MAY_IMPORT[a.slice(4)];
    if (!allowed) return null;
    if (b.startsWith('src/')) {
      if (allowed.includes(b.slice(4))) return null;
      const up = (SRC_MAY_IMPORT[b.slice(4)] ?? []).includes(a.slice(4));
      return `${a} may not import ${up ? '' : 'its peer '}${b} (${target}): imports point down only (${LAYER_ORDER})`;
    }
    if (a === 'src/cli' && (b === 'topologies' || b === 'training')) return null;
    return `${a} may not import ${target}: only src/cli may import topologies/ and training/, and src imports nothing else outside src`;
  }
  const allowed = MAY_IMPORT[a];
  if (!allowed) return null;
  return allowed.includes(b.split('/')[0])
    ? null
    : `${a}/ may not import ${target}: ${a}/ imports ${allowed.join(', ')} only`;
}

/** The ESLint rule enforcing `violation` on static imports, re-exports and literal dynamic imports. */
const importDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'imports point down only (layers of CONTRIBUTING.md)' },
    schema: [],
  },
  create(context) {
    const file = relative(root, context.filename).split(sep).join('/');
    if (file.startsWith('..')) return {};
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), source.value))
        .split(sep)
        .join('/');
      const why = violation(file, target);
      if (why) context.report({ node: source, message: why });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) => check(n, n.source.type === 'Literal' ? n.source : null),
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'models/**',
      'training/**/*.py',
      '**/*.generated.ts',
      'coverage/**',
      'test/helpers/tmp/**',
      'training/work/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { layers: { rules: { 'import-direction': importDirection } } },
    rules: { 'layers/import-direction': 'error' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
);
