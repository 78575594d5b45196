import sax from 'sax';
import { StringDecoder } from 'node:string_decoder';
import type { PubmedArticle } from '../avro/types.generated.ts';
import { FileFormatError } from './errors.ts';
import type { ParsedRecord } from './recordSource.ts';

interface Draft {
  line: number;
  pmid: string | null;
  title: string;
  abstractParts: Array<{ label: string | null; text: string }>;
  journal: string | null;
  year: number | null;
  medlineDate: string | null;
  mesh: string[];
  error: string | null;
}

/** Where text is being collected, by element path suffix inside a PubmedArticle. */
type Collect = 'pmid' | 'title' | 'abstract' | 'journal' | 'year' | 'medlineDate' | 'mesh' | null;

function endsWith(stack: string[], ...names: string[]): boolean {
  if (stack.length < names.length) return false;
  for (let i = 0; i < names.length; i++) {
    if (stack[stack.length - names.length + i] !== names[i]) return false;
  }
  return true;
}

/** The collected text's target for an element just opened (`stack` includes it). */
function targetOf(stack: string[]): Collect {
  if (endsWith(stack, 'MedlineCitation', 'PMID')) return 'pmid';
  if (endsWith(stack, 'Article', 'ArticleTitle')) return 'title';
  if (endsWith(stack, 'Article', 'Abstract', 'AbstractText')) return 'abstract';
  if (endsWith(stack, 'Article', 'Journal', 'Title')) return 'journal';
  if (endsWith(stack, 'Journal', 'JournalIssue', 'PubDate', 'Year')) return 'year';
  if (endsWith(stack, 'Journal', 'JournalIssue', 'PubDate', 'MedlineDate')) return 'medlineDate';
  if (endsWith(stack, 'MeshHeadingList', 'MeshHeading', 'DescriptorName')) return 'mesh';
  return null;
}

/** Joins a structured abstract the way PubMed displays it: `LABEL: text` sections separated by a space. */
export function joinAbstract(parts: Array<{ label: string | null; text: string }>): string {
  return parts
    .map((p) => (p.label ? `${p.label}: ${p.text.trim()}` : p.text).trim())
    .filter((s) => s.length > 0)
    .join(' ');
}

/**
 * Streams PubmedArticle elements of a PubMed baseline/update XML file (already gunzipped) with
 * sax: memory holds one article and one chunk, never the file. DeleteCitation and book records
 * are not articles and are skipped; an article without a PMID, or XML errors inside one, become
 * error records naming the line.
 */
export async function* readPubmedXml(
  stream: AsyncIterable<Buffer | string>,
  path: string,
): AsyncGenerator<ParsedRecord<PubmedArticle>> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  const ready: Array<ParsedRecord<PubmedArticle>> = [];
  const stack: string[] = [];
  let draft: Draft | null = null;
  let collect: Collect = null;
  let depthOfCollect = 0;
  let buf = '';
  let label: string | null = null;
  let fatal: string | null = null;

  const finish = (d: Draft): void => {
    const key = d.pmid;
    const year = d.year ?? (d.medlineDate ? Number(/\d{4}/.exec(d.medlineDate)?.[0] ?? NaN) : NaN);
    const value: PubmedArticle = {
      pmid: d.pmid ?? '',
      title: d.title.trim(),
      abstract: joinAbstract(d.abstractParts),
      journal: d.journal,
      year: Number.isFinite(year) ? (year as number) : null,
      mesh: d.mesh,
      annotations: [],
      relations: [],
    };
    const raw = Buffer.from(JSON.stringify(value));
    const err = d.error ?? (d.pmid ? null : 'PubmedArticle without MedlineCitation/PMID');
    if (err)
      ready.push({
        ok: false,
        error: new FileFormatError('pubmed-xml', path, d.line, err),
        key,
        line: d.line,
        raw,
      });
    else ready.push({ ok: true, value, key, line: d.line, raw });
  };

  parser.onopentag = (tag) => {
    stack.push(tag.name);
    if (tag.name === 'PubmedArticle') {
      draft = {
        line: parser.line + 1,
        pmid: null,
        title: '',
        abstractParts: [],
        journal: null,
        year: null,
        medlineDate: null,
        mesh: [],
        error: null,
      };
      return;
    }
    if (!draft) return;
    if (collect) return; // inline markup (<i>, <sup>) inside a collected element: keep its text
    const t = targetOf(stack);
    if (t) {
      collect = t;
      depthOfCollect = stack.length;
      buf = '';
      const l = (tag.attributes as Record<string, string>).Label;
      label = t === 'abstract' && l ? l : null;
    }
  };
  parser.ontext = (text) => {
    if (collect) buf += text;
  };
  parser.oncdata = (text) => {
    if (collect) buf += text;
  };
  parser.onclosetag = (name) => {
    const d = draft as Draft | null;
    if (d && collect && stack.length === depthOfCollect) {
      const text = buf;
      switch (collect) {
        case 'pmid':
          d.pmid ??= text.trim();
          break;
        case 'title':
          d.title = text;
          break;
        case 'abstract':
          d.abstractParts.push({ label, text });
          break;
        case 'journal':
          d.journal ??= text.trim();
          break;
        case 'year':
          d.year ??= Number(text.trim()) || null;
          break;
        case 'medlineDate':
          d.medlineDate ??= text.trim();
          break;
        case 'mesh':
          d.mesh.push(text.trim());
          break;
      }
      collect = null;
      buf = '';
    }
    stack.pop();
    if (name === 'PubmedArticle' && d) {
      finish(d);
      draft = null;
    }
  };
  parser.onerror = (e) => {
    const msg = e.message.split('\n')[0] ?? e.message;
    const d = draft as Draft | null;
    if (d) d.error ??= `XML error at line ${parser.line + 1}: ${msg}`;
    else fatal ??= `XML error at line ${parser.line + 1}: ${msg}`;
    // sax can go on after an error; the damaged article is reported, the next ones still read.
    (parser as unknown as { error: unknown }).error = null;
  };

  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    yield* ready.splice(0, ready.length);
    if (fatal) {
      yield {
        ok: false,
        error: new FileFormatError('pubmed-xml', path, parser.line + 1, fatal),
        key: null,
        line: parser.line + 1,
        raw: null,
      };
      fatal = null;
    }
  }
  parser.write(decoder.end());
  parser.close();
  const d = draft as Draft | null;
  if (d) {
    d.error ??= 'file ends inside a PubmedArticle (truncated?)';
    finish(d);
  }
  yield* ready.splice(0, ready.length);
  if (fatal) {
    yield {
      ok: false,
      error: new FileFormatError('pubmed-xml', path, parser.line + 1, fatal),
      key: null,
      line: parser.line + 1,
      raw: null,
    };
  }
}
