// The study's PNG bar chart, drawn pixel by pixel with pngjs and a 5x7 bitmap font (no canvas or
// font dependency): one panel per dataset/size, one bar per method (mean F1) with a ±std whisker.
import { PNG } from 'pngjs';
import { sortRecords, type StudyRecord } from './aggregate.ts';

// 5x7 glyphs, one string of 7 rows of 5 bits each ('#' on). Lower case is drawn as upper case.
const FONT: Record<string, string[]> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['####.', '....#', '....#', '.###.', '....#', '....#', '####.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  F: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  J: ['..###', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  N: ['#...#', '#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  Q: ['.###.', '#...#', '#...#', '#...#', '#.#.#', '#..#.', '.##.#'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  V: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'],
  X: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  Z: ['#####', '....#', '...#.', '..#..', '.#...', '#....', '#####'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  ',': ['.....', '.....', '.....', '.....', '.##..', '..#..', '.#...'],
  ':': ['.....', '.##..', '.##..', '.....', '.##..', '.##..', '.....'],
  ';': ['.....', '.##..', '.##..', '.....', '.##..', '..#..', '.#...'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  '+': ['.....', '..#..', '..#..', '#####', '..#..', '..#..', '.....'],
  '/': ['.....', '....#', '...#.', '..#..', '.#...', '#....', '.....'],
  '%': ['##...', '##..#', '...#.', '..#..', '.#...', '#..##', '...##'],
  '(': ['...#.', '..#..', '.#...', '.#...', '.#...', '..#..', '...#.'],
  ')': ['.#...', '..#..', '...#.', '...#.', '...#.', '..#..', '.#...'],
  '=': ['.....', '.....', '#####', '.....', '#####', '.....', '.....'],
  '±': ['..#..', '..#..', '#####', '..#..', '..#..', '.....', '#####'],
};
const UNKNOWN = ['#####', '#...#', '#...#', '#...#', '#...#', '#...#', '#####'];

type RGB = readonly [number, number, number];

/** A small RGB raster with the few primitives the chart needs. */
export class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
    bg: RGB = [255, 255, 255],
  ) {
    this.png = new PNG({ width, height });
    this.rect(0, 0, width, height, bg);
  }

  /** Sets one pixel; outside the raster is ignored so labels may run off an edge. */
  set(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (this.width * y + x) << 2;
    const d = this.png.data;
    d[i] = c[0];
    d[i + 1] = c[1];
    d[i + 2] = c[2];
    d[i + 3] = 255;
  }

  /** Filled axis-aligned rectangle. */
  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    for (let j = Math.max(0, Math.round(y)); j < Math.min(this.height, Math.round(y + h)); j++)
      for (let i = Math.max(0, Math.round(x)); i < Math.min(this.width, Math.round(x + w)); i++)
        this.set(i, j, c);
  }

  /** Text in the 5x7 font at integer `scale`; returns its width in pixels. */
  text(x: number, y: number, s: string, c: RGB, scale = 1): number {
    let cx = x;
    for (const ch of s) {
      const g = FONT[ch] ?? FONT[ch.toUpperCase()] ?? UNKNOWN;
      g.forEach((row, r) => {
        for (let k = 0; k < 5; k++)
          if (row[k] === '#') this.rect(cx + k * scale, y + r * scale, scale, scale, c);
      });
      cx += 6 * scale;
    }
    return cx - x;
  }

  /** Encoded PNG bytes. */
  encode(): Buffer {
    return PNG.sync.write(this.png);
  }
}

/** Width in pixels of `s` in the 5x7 font at `scale`. */
export function textWidth(s: string, scale = 1): number {
  return [...s].length * 6 * scale;
}

const COLORS: Record<string, RGB> = {
  gold: [120, 120, 120],
  mr: [78, 121, 167],
  lwtr: [242, 142, 43],
  sis: [89, 161, 79],
  sr: [237, 201, 72],
  all4: [176, 122, 161],
  bioaug: [225, 87, 89],
  'bioaug-ce': [118, 67, 44],
};
const BLACK: RGB = [0, 0, 0];
const GRID: RGB = [225, 225, 225];

/** Renders the records as a PNG bar chart: one panel per dataset/size, y axis F1 (0-100). */
export function renderChart(records: StudyRecord[], title = 'NER F1 on dev by augmentation method'): Buffer {
  const rs = sortRecords(records);
  const panels: StudyRecord[][] = [];
  for (const r of rs) {
    const p = panels.find((q) => q[0]!.dataset === r.dataset && q[0]!.size === r.size);
    if (p) p.push(r);
    else panels.push([r]);
  }
  if (panels.length === 0) throw new Error('study chart: no records to draw');
  const S = 2; // font scale
  const barW = 44;
  const gap = 14;
  const plotH = 300;
  const left = 80;
  const top = 50;
  const panelGap = 40;
  const panelW = (n: number) => n * (barW + gap) + gap;
  const footer = 'bars: mean over seeds; whiskers: +/- sample std';
  const width = Math.max(
    left + panels.reduce((a, p) => a + panelW(p.length) + panelGap, 0) + 10,
    left + textWidth(title, S) + 10,
    left + textWidth(footer) + 10,
  );
  const height = top + plotH + 90;
  const cv = new Canvas(width, height);
  cv.text(left, 12, title, BLACK, S);
  // F1 axis 0..100 with a grid line every 10 (labels every 20).
  const yOf = (f1: number) => top + plotH - (Math.max(0, Math.min(100, f1)) / 100) * plotH;
  for (let v = 0; v <= 100; v += 10) {
    const y = Math.round(yOf(v));
    cv.rect(left, y, width - left - 10, 1, GRID);
    if (v % 20 === 0) cv.text(left - 6 - textWidth(String(v), S), y - 7, String(v), BLACK, S);
  }
  cv.text(6, top + plotH / 2 - 7, 'F1', BLACK, S);
  let x0 = left;
  for (const p of panels) {
    const w = panelW(p.length);
    p.forEach((r, i) => {
      const x = x0 + gap + i * (barW + gap);
      const y = yOf(r.f1_mean);
      cv.rect(x, y, barW, top + plotH - y, COLORS[r.method] ?? [60, 60, 60]);
      // whisker: mean ± std
      const cx = x + Math.floor(barW / 2);
      const y1 = yOf(r.f1_mean + r.f1_std);
      const y2 = yOf(r.f1_mean - r.f1_std);
      cv.rect(cx, y1, 1, Math.max(1, y2 - y1), BLACK);
      cv.rect(cx - 5, y1, 11, 1, BLACK);
      cv.rect(cx - 5, y2, 11, 1, BLACK);
      const v = r.f1_mean.toFixed(1);
      cv.text(cx - Math.floor(textWidth(v) / 2), Math.min(y1, y) - 11, v, BLACK, 1);
      const name = r.method.toUpperCase();
      cv.text(cx - Math.floor(textWidth(name) / 2), top + plotH + 8, name, BLACK, 1);
      const sd = `N=${r.seeds}`;
      cv.text(cx - Math.floor(textWidth(sd) / 2), top + plotH + 20, sd, BLACK, 1);
    });
    cv.rect(x0, top, 1, plotH + 1, BLACK);
    cv.rect(x0, top + plotH, w, 1, BLACK);
    const label = `${p[0]!.dataset} ${p[0]!.size}`;
    cv.text(x0 + Math.floor((w - textWidth(label, S)) / 2), top + plotH + 40, label, BLACK, S);
    x0 += w + panelGap;
  }
  cv.text(left, height - 18, footer, BLACK, 1);
  return cv.encode();
}
