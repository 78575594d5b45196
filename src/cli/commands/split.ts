// `bioaug-stream split`: sentences of a PubTator file as JSON lines, offsets into title + " " + abstract.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { PubtatorLineParser, type PubtatorDoc } from '../../text/pubtator.ts';
import type { SplitSentencesConfig } from '../../text/splitSentences.ts';

// The splitter (zod, rxjs operators) is imported when a split runs, not for `--help`.
const loadSplitter = () => import('../../text/splitSentences.ts');

/** Streams the sentences of every document of a PubTator file to `write`; returns the counts. */
export async function splitPubtatorFile(
  path: string,
  options: Partial<SplitSentencesConfig>,
  write: (line: string) => void,
  afterDocument: () => Promise<void> | void = () => undefined,
): Promise<{ documents: number; sentences: number }> {
  const { articleSentences, SplitSentencesConfig } = await loadSplitter();
  const opts = SplitSentencesConfig.parse(options);
  const parser = new PubtatorLineParser();
  let documents = 0;
  let sentences = 0;
  const emit = (doc: PubtatorDoc): void => {
    documents++;
    let spans;
    try {
      spans = articleSentences(doc, opts);
    } catch (e) {
      throw new Error(`document ${doc.pmid} (#${documents}): ${(e as Error).message}`, { cause: e });
    }
    for (const s of spans) {
      sentences++;
      write(JSON.stringify({ pmid: s.pmid, start: s.start, end: s.end, text: s.text }));
    }
  };
  // Line by line, one document at a time: memory stays bounded whatever the file size.
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const doc = parser.push(line);
    if (doc) {
      emit(doc);
      await afterDocument();
    }
  }
  const last = parser.end();
  if (last) emit(last);
  return { documents, sentences };
}

/** Registers `split`. */
export function register(program: Command): void {
  program
    .command('split')
    .description('Split the titles and abstracts of a PubTator file into sentences (one JSON line each)')
    .requiredOption('--input <file>', 'PubTator file (PMID|t|, PMID|a| lines)')
    .option('--enumerations <mode>', 'sentence-initial "1." labels: attach | separate', 'attach')
    .option('--split-title', 'split titles like abstracts (off: a title is one sentence)')
    .option('--no-headings', 'do not start sentences at BACKGROUND:/METHODS:/... headings')
    .option('--control-chars <mode>', 'control characters in text: error | space', 'error')
    .action(
      async (o: {
        input: string;
        enumerations: string;
        headings: boolean;
        controlChars: string;
        splitTitle?: boolean;
      }) => {
        const { SplitSentencesConfig } = await loadSplitter();
        const parsed = SplitSentencesConfig.safeParse({
          enumerations: o.enumerations,
          headings: o.headings,
          controlChars: o.controlChars,
          splitTitle: o.splitTitle === true,
        });
        if (!parsed.success) {
          process.stderr.write(
            `split: invalid option: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}\n`,
          );
          process.exitCode = 2;
          return;
        }
        let buf = '';
        const write = (line: string): void => {
          buf += `${line}\n`;
          if (buf.length > 65536) {
            process.stdout.write(buf);
            buf = '';
          }
        };
        try {
          // Wait for stdout to drain when a slow reader is piped in, so output never piles up in memory.
          const drain = async (): Promise<void> => {
            if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
          };
          const { documents, sentences } = await splitPubtatorFile(o.input, parsed.data, write, drain);
          process.stdout.write(buf);
          process.stderr.write(`split: ${documents} documents, ${sentences} sentences\n`);
        } catch (e) {
          process.stdout.write(buf);
          process.stderr.write(`split: ${o.input}: ${(e as Error).message}\n`);
          process.exitCode = 1;
        }
      },
    );
}
