// String normalization of entity names for dictionary lookup: the variation that separates a mention
// from a dictionary name without changing the concept (case, Greek letters spelled or as symbols,
// hyphens and punctuation, plurals, word order). Each function is pure and cheap: it runs once per
// mention and once per dictionary name when a bundle loads.

const GREEK: Record<string, string> = {
  α: 'alpha',
  β: 'beta',
  γ: 'gamma',
  δ: 'delta',
  ε: 'epsilon',
  ζ: 'zeta',
  η: 'eta',
  θ: 'theta',
  ι: 'iota',
  κ: 'kappa',
  λ: 'lambda',
  μ: 'mu',
  ν: 'nu',
  ξ: 'xi',
  ο: 'omicron',
  π: 'pi',
  ρ: 'rho',
  σ: 'sigma',
  ς: 'sigma',
  τ: 'tau',
  υ: 'upsilon',
  φ: 'phi',
  χ: 'chi',
  ψ: 'psi',
  ω: 'omega',
};
const GREEK_CHARS = new RegExp(`[${Object.keys(GREEK).join('')}]`, 'gu');

// Words whose final s is not a plural ending (Latin/Greek singulars frequent in disease names).
const NOT_PLURAL = new Set([
  'always',
  'analysis',
  'arthritis',
  'diabetes',
  'herpes',
  'mellitus',
  'nephrosis',
  'series',
  'species',
  'status',
  'virus',
  'bus',
  'sepsis',
  'psoriasis',
  'stenosis',
  'thrombosis',
  'fibrosis',
  'necrosis',
  'cirrhosis',
  'acidosis',
  'alkalosis',
  'ketoacidosis',
  'meningitis',
  'hepatitis',
  'nephritis',
  'colitis',
  'cystitis',
  'pancreatitis',
  'syndrome',
  'measles',
  'mumps',
  'rabies',
  'scabies',
  'tetanus',
  'lupus',
  'ileus',
  'nevus',
  'fetus',
  'uterus',
  'bronchus',
  'thrombus',
  'embolus',
  'calculus',
  'ds',
]);

/** Singular of one lower-case word by suffix rules (plural mentions meet singular dictionary names). */
export function singular(w: string): string {
  if (w.length <= 3 || NOT_PLURAL.has(w)) return w;
  if (/(?:is|us|ss|ys)$/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (/(?:ches|shes|xes|sses|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/** Lower case, Greek symbols spelled out, compatibility forms folded (NFKC), whitespace collapsed. */
export function foldCase(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(GREEK_CHARS, (c) => ` ${GREEK[c] ?? c} `)
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * The words of a name after folding: punctuation and hyphens split words, letters and digits are
 * split apart ("5FU" and "5-FU" both give 5 fu), plurals made singular.
 */
export function nameWords(s: string): string[] {
  return foldedWords(foldCase(s));
}

/** {@link nameWords} of a string already through {@link foldCase} (callers that need both fold once). */
export function foldedWords(folded: string): string[] {
  return folded
    .replace(/'s\b/gu, '')
    .replace(/(\p{L})(\p{N})|(\p{N})(\p{L})/gu, (_m, a, b, c, d) => (a ? `${a} ${b}` : `${c} ${d}`))
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '')
    .map((w) => singular(britishToAmerican(w)));
}

/** British spellings folded to American ones ("anaemia", "oedema", "haemorrhage"): ae, oe -> e. */
export function britishToAmerican(w: string): string {
  return w.length > 4 ? w.replace(/(?<=\p{L})(?:ae|oe)(?=\p{L})|^(?:ae|oe)(?=\p{L}{3})/gu, 'e') : w;
}

// Words that end a cause in a disease mention ("cocaine-induced myocardial infarction"): CDR annotates
// the disease after them.
const CAUSE_WORDS = new Set(['induced', 'associated', 'related', 'caused', 'mediated', 'evoked', 'provoked']);

/** The words after the last cause word ("drug induced hepatitis" -> hepatitis); null when none. */
export function afterCause(words: readonly string[]): string[] | null {
  for (let i = words.length - 2; i >= 0; i--) if (CAUSE_WORDS.has(words[i]!)) return words.slice(i + 1);
  return null;
}

// Adjective and noun forms that name the same organ or process in disease names ("renal failure" and
// "kidney failure", "hepatic injury" and "liver injury"): folded to one word in lookup keys.
const SAME_WORD: Record<string, string> = {
  renal: 'kidney',
  nephric: 'kidney',
  hepatic: 'liver',
  cardiac: 'heart',
  myocardial: 'heart',
  pulmonary: 'lung',
  gastric: 'stomach',
  cerebral: 'brain',
  tumour: 'tumor',
  neoplasm: 'tumor',
  haemorrhage: 'hemorrhage',
  bleeding: 'hemorrhage',
  convulsion: 'seizure',
  fit: 'seizure',
  insufficiency: 'failure',
  injury: 'damage',
};

/** Words of a name with organ/process synonyms folded (the key of the synonym tier). */
export function canonicalWords(words: readonly string[]): string[] {
  return words.map((w) => SAME_WORD[w] ?? w);
}

// Derivational endings, longest first, each with what replaces it: adjectives and nouns of one concept
// meet at a common stem ("necrotic" / "necrosis", "epileptic" / "epilepsy", "hypotensive" / "hypotension").
const STEM_RULES: Array<[string, string]> = [
  ['otic', 'os'],
  ['osis', 'os'],
  ['psy', 'pt'],
  ['atous', ''],
  ['ical', ''],
  ['ity', ''],
  ['ism', ''],
  ['ful', ''],
  ['ive', ''],
  ['ion', ''],
  ['ous', ''],
  ['ia', ''],
  ['ic', ''],
  ['al', ''],
  ['y', ''],
  ['a', ''],
  ['e', ''],
];

/** A crude stem of one normalized word: derivational endings stripped, twice at most ("toxicity" -> tox). */
export function stemWord(w: string): string {
  let s = w;
  for (let round = 0; round < 2; round++) {
    const r = STEM_RULES.find(([suf]) => s.endsWith(suf) && s.length - suf.length >= 4);
    if (!r) break;
    s = s.slice(0, -r[0].length) + r[1];
  }
  return s;
}

/** Order-free key of stemmed words without function words (the stem tier). */
export function stemKey(s: string): string {
  return stemKeyOfWords(nameWords(s));
}

/** {@link stemKey} of a name's {@link nameWords}. */
export function stemKeyOfWords(words: readonly string[]): string {
  return [...new Set(words.filter((w) => !BAG_STOP.has(w)).map(stemWord))].sort().join(' ');
}

/** The normalized name: {@link nameWords} joined by single spaces. */
export function normalizeName(s: string): string {
  return nameWords(s).join(' ');
}

// Words that carry no identity in a bag of words ("cancer of the breast" = "breast cancer").
const BAG_STOP = new Set(['of', 'the', 'and', 'in', 'a', 'an', 'to', 'with', 'by', 'on', 'for']);

/** Order-free key: the sorted distinct words without function words. */
export function bagKey(s: string): string {
  return bagKeyOfWords(nameWords(s));
}

/** {@link bagKey} of a name's {@link nameWords}. */
export function bagKeyOfWords(words: readonly string[]): string {
  const ws = [...new Set(words.filter((w) => !BAG_STOP.has(w)))];
  return ws.sort().join(' ');
}

/** Character trigrams of a normalized name with word boundaries marked (for the similarity ranker). */
export function trigrams(normalized: string): string[] {
  const s = ` ${normalized} `;
  const out: string[] = [];
  for (let i = 0; i + 3 <= s.length; i++) out.push(s.slice(i, i + 3));
  return out;
}

// Coordinators that join the parts of a composite mention ("breast and ovarian cancer").
const COORDINATOR = /\s*,\s*(?:and\/or|and|or)?\s+|\s+(?:and\/or|and|or|as well as)\s+|\s*\/\s*/iu;

/**
 * The individual names of a coordinated (composite) mention, CDR style: a shared head after the
 * conjuncts ("breast and ovarian cancer" -> breast cancer, ovarian cancer; "acute and chronic pain"),
 * or shared modifiers before them ("cleft lip and palate" -> cleft lip, cleft palate). Null when the
 * text has no coordinator or a part would be empty. Both readings are returned when both apply; the
 * caller keeps the parts the dictionary knows.
 */
export function coordinatedNames(text: string): string[] | null {
  const t = text.trim().replace(/\s+/gu, ' ');
  if (!COORDINATOR.test(t)) return null;
  const parts = t.split(new RegExp(COORDINATOR.source, 'giu')).map((p) => p.trim());
  if (parts.length < 2 || parts.length > 8 || parts.some((p) => p === '')) return null;
  const first = parts[0]!.split(' ');
  const last = parts[parts.length - 1]!.split(' ');
  const out: string[] = [];
  // Shared head: every conjunct but the last borrows the last one's final word(s) when it is a modifier only.
  if (last.length >= 2) {
    const head = last.slice(1).join(' ');
    for (const p of parts.slice(0, -1)) out.push(p.split(' ').length === 1 ? `${p} ${head}` : p);
    out.push(parts[parts.length - 1]!);
  }
  // Shared modifiers: conjuncts after the first borrow its leading words when they are one word.
  if (first.length >= 2) {
    const mod = first.slice(0, -1).join(' ');
    out.push(parts[0]!);
    for (const p of parts.slice(1)) out.push(p.split(' ').length === 1 ? `${mod} ${p}` : p);
  }
  if (out.length === 0) return parts;
  return [...new Set(out)];
}
