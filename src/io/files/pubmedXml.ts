import sax from 'sax';
import { isUtf8 } from 'node:buffer';
import type { PubmedArticle } from '../avro/types.generated.ts';
import { FileFormatError } from './errors.ts';
import type { ParsedRecord } from './fileSource.ts';

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

/** A PMC (JATS) `<article>` being read: front matter only (title, abstract, ids, journal, year). */
interface JatsDraft {
  line: number;
  pmid: string | null;
  pmcid: string | null;
  title: string;
  abstractParts: Array<{ label: string | null; text: string }>;
  /** Depth of the abstract being read (0: outside it); only the first plain abstract is read. */
  abstractDepth: number;
  abstractSeen: boolean;
  journal: string | null;
  year: number | null;
  error: string | null;
  /** Text being collected and what it is for. */
  into: 'pmid' | 'pmcid' | 'title' | 'label' | 'para' | 'journal' | 'year' | null;
  depth: number;
  buf: string;
  label: string | null;
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

/** Length of `b` without a multi-byte UTF-8 sequence cut off at its end (it continues in the next chunk). */
function completeUtf8Length(b: Buffer): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 4; i--) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > b.length - i ? i : b.length;
  }
  return b.length;
}

/** Index of the first byte of `b` (from `from`) that does not start a valid UTF-8 sequence, or -1. */
export function invalidUtf8At(b: Buffer, from = 0): number {
  let i = from;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    const c1 = b[i + 1]!;
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are invalid too.
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return i;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
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
 * error records naming the line. PMC full-text files (JATS `.nxml`, `<article>` roots) are read
 * too, front matter only (the record holds a title and an abstract): the PMID, else `PMC<id>`, is
 * the key. A file with neither kind of article yields one error record instead of nothing.
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
  let jats: JatsDraft | null = null;
  let articles = 0;

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

  const finishJats = (j: JatsDraft): void => {
    const key = j.pmid ?? (j.pmcid ? `PMC${j.pmcid.replace(/^PMC/i, '')}` : null);
    const value: PubmedArticle = {
      pmid: key ?? '',
      title: j.title.replace(/\s+/g, ' ').trim(),
      abstract: joinAbstract(j.abstractParts.map((p) => ({ ...p, text: p.text.replace(/\s+/g, ' ') }))),
      journal: j.journal,
      year: j.year,
      mesh: [],
      annotations: [],
      relations: [],
    };
    const raw = Buffer.from(JSON.stringify(value));
    const err = j.error ?? (key ? null : 'JATS article without a pmid or pmc article-id');
    if (err)
      ready.push({
        ok: false,
        error: new FileFormatError('pmc-xml', path, j.line, err),
        key,
        line: j.line,
        raw,
      });
    else ready.push({ ok: true, value, key, line: j.line, raw });
  };
  const jatsOpen = (j: JatsDraft, tag: sax.Tag): void => {
    const attrs = tag.attributes as Record<string, string>;
    if (j.into) return; // inline markup (<italic>, <sup>) inside collected text: keep its text
    const inMeta = stack.includes('article-meta');
    const inAbstract = j.abstractDepth > 0;
    let into: JatsDraft['into'] = null;
    if (tag.name === 'abstract' && inMeta && !j.abstractSeen && !attrs['abstract-type']) {
      // The first plain abstract only: graphical abstracts, teasers and translations are not the abstract.
      j.abstractSeen = true;
      j.abstractDepth = stack.length;
      return;
    }
    if (inAbstract && tag.name === 'title') into = 'label';
    else if (inAbstract && tag.name === 'p') into = 'para';
    else if (endsWith(stack, 'article-meta', 'article-id') && attrs['pub-id-type'] === 'pmid') into = 'pmid';
    else if (endsWith(stack, 'article-meta', 'article-id') && /^pmc(id)?$/.test(attrs['pub-id-type'] ?? ''))
      into = 'pmcid';
    else if (endsWith(stack, 'article-meta', 'title-group', 'article-title')) into = 'title';
    else if (
      endsWith(stack, 'journal-meta', 'journal-title') ||
      endsWith(stack, 'journal-title-group', 'journal-title')
    )
      into = 'journal';
    else if (endsWith(stack, 'article-meta', 'pub-date', 'year')) into = 'year';
    if (into) {
      j.into = into;
      j.depth = stack.length;
      j.buf = '';
    }
  };
  const jatsClose = (j: JatsDraft): void => {
    if (j.abstractDepth === stack.length) j.abstractDepth = 0;
    if (!j.into || stack.length !== j.depth) return;
    const text = j.buf;
    switch (j.into) {
      case 'pmid':
        j.pmid ??= text.trim();
        break;
      case 'pmcid':
        j.pmcid ??= text.trim();
        break;
      case 'title':
        if (!j.title) j.title = text;
        break;
      case 'label':
        j.label = text.trim().replace(/[:.]$/, '') || null;
        break;
      case 'para':
        j.abstractParts.push({ label: j.label, text });
        j.label = null;
        break;
      case 'journal':
        j.journal ??= text.trim();
        break;
      case 'year':
        j.year ??= Number(text.trim()) || null;
        break;
    }
    j.into = null;
    j.buf = '';
  };

  parser.onopentag = (tag) => {
    stack.push(tag.name);
    if (tag.name === 'article' && !draft && !jats) {
      articles += 1;
      jats = {
        line: parser.line + 1,
        pmid: null,
        pmcid: null,
        title: '',
        abstractParts: [],
        abstractDepth: 0,
        abstractSeen: false,
        journal: null,
        year: null,
        error: null,
        into: null,
        depth: 0,
        buf: '',
        label: null,
      };
      return;
    }
    if (jats) return jatsOpen(jats, tag as sax.Tag);
    if (tag.name === 'PubmedArticle') {
      articles += 1;
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
    const j = jats as JatsDraft | null;
    if (j?.into) j.buf += text;
  };
  parser.oncdata = (text) => {
    if (collect) buf += text;
    const j = jats as JatsDraft | null;
    if (j?.into) j.buf += text;
  };
  parser.onclosetag = (name) => {
    const j = jats as JatsDraft | null;
    if (j) {
      jatsClose(j);
      stack.pop();
      if (name === 'article' && !stack.includes('article')) {
        finishJats(j);
        jats = null;
      }
      return;
    }
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
    const j = jats as JatsDraft | null;
    if (d) d.error ??= `XML error at line ${parser.line + 1}: ${msg}`;
    else if (j) j.error ??= `XML error at line ${parser.line + 1}: ${msg}`;
    else fatal ??= `XML error at line ${parser.line + 1}: ${msg}`;
    // sax can go on after an error; the damaged article is reported, the next ones still read.
    (parser as unknown as { error: unknown }).error = null;
  };

  // Bytes are checked before sax sees them: an invalid UTF-8 sequence makes the article around it
  // a dead letter naming the line and byte (as every other reader does), instead of a silent U+FFFD.
  const invalidByte = (byte: number): void => {
    const msg = `invalid UTF-8 (byte 0x${byte.toString(16).padStart(2, '0')}) at line ${parser.line + 1}`;
    const d = draft as Draft | null;
    const j = jats as JatsDraft | null;
    if (d) d.error ??= msg;
    else if (j) j.error ??= msg;
    else fatal ??= msg;
  };
  const writeBytes = (b: Buffer): void => {
    if (isUtf8(b)) return void parser.write(b.toString('utf8'));
    let pos = 0;
    for (let bad = invalidUtf8At(b); bad >= 0; bad = invalidUtf8At(b, pos)) {
      parser.write(b.toString('utf8', pos, bad));
      invalidByte(b[bad]!);
      parser.write('\uFFFD');
      pos = bad + 1;
    }
    parser.write(b.toString('utf8', pos));
  };
  let carry: Buffer | null = null;
  for await (const chunk of stream) {
    if (typeof chunk === 'string') parser.write(chunk);
    else {
      const b: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      const end = completeUtf8Length(b);
      carry = end < b.length ? Buffer.from(b.subarray(end)) : null;
      writeBytes(b.subarray(0, end));
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
      fatal = null;
    }
  }
  // A sequence still cut off at the end of the file is invalid.
  if (carry) writeBytes(carry);
  parser.close();
  const d = draft as Draft | null;
  if (d) {
    d.error ??= 'file ends inside a PubmedArticle (truncated?)';
    finish(d);
  }
  const j = jats as JatsDraft | null;
  if (j) {
    j.error ??= 'file ends inside a JATS article (truncated?)';
    finishJats(j);
  }
  yield* ready.splice(0, ready.length);
  if (articles === 0 && !fatal)
    yield {
      ok: false,
      error: new FileFormatError(
        'pubmed-xml',
        path,
        parser.line + 1,
        'no PubmedArticle (PubMed XML) or article (PMC JATS) element in this file: nothing to read',
      ),
      key: null,
      line: parser.line + 1,
      raw: null,
    };
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
