import { decimalScale, parseScaled } from '../../engine/decimal.js';
import { LevelBook } from '../../engine/level-book.js';
import { Side } from '../../engine/types.js';
import { inputError } from '../errors.js';
import { DeadLetters } from './dead-letter.js';

/**
 * Tardis-style crypto CSV (incremental_book_L2 and trades), parsed at the byte
 * level into typed arrays, with decimal prices and amounts mapped to integer
 * ticks and lots without floats. A price off the tick grid or an amount off
 * the lot grid is a dead letter: rounding it would invent a level.
 */

export const TARDIS_L2_HEADER = 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount';
export const TARDIS_TRADES_HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';

export interface TardisOptions {
  /** Decimal string, e.g. "0.01". */
  tickSize: string;
  /** Decimal string, e.g. "0.000001". */
  lotSize: string;
  file?: string;
  strict?: boolean;
  deadLetters?: DeadLetters;
}

/** incremental_book_L2 rows that parsed; `line` points back into the file. */
export interface TardisL2 {
  readonly file: string;
  readonly count: number;
  readonly timestampUs: Float64Array;
  readonly localTimestampUs: Float64Array;
  readonly isSnapshot: Uint8Array;
  readonly side: Uint8Array;
  readonly priceTicks: Float64Array;
  /** Absolute size now at the level; 0 removes it. */
  readonly sizeLots: Float64Array;
  readonly line: Int32Array;
}

export interface TardisTrades {
  readonly file: string;
  readonly count: number;
  readonly timestampUs: Float64Array;
  readonly localTimestampUs: Float64Array;
  /** The venue's trade id when it is an integer, else -1. */
  readonly id: Float64Array;
  /** Aggressor side: 0 buy, 1 sell, -1 unknown. */
  readonly side: Int8Array;
  readonly priceTicks: Float64Array;
  readonly sizeLots: Float64Array;
  readonly line: Int32Array;
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const DIGITS_MAX = 15;

let cur = 0;
/** Set by decField when the number had non-zero digits beyond the scale. */
let offGrid = false;
/** Set by decField when a comma followed the number (another column comes). */
let commaAfter = false;

function skipField(b: Uint8Array, end: number): boolean {
  const start = cur;
  while (cur < end && b[cur] !== COMMA) cur++;
  const ok = cur > start && cur < end;
  cur++;
  return ok;
}

/** Unsigned integer field; NaN if malformed. Steps over the following comma. */
function uintField(b: Uint8Array, end: number): number {
  const start = cur;
  let v = 0;
  while (cur < end) {
    const d = b[cur]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    cur++;
  }
  const n = cur - start;
  // Microsecond epochs have 16 digits: accept any length that stays a safe integer.
  const ok = n > 0 && n <= 16 && v <= Number.MAX_SAFE_INTEGER && (cur === end || b[cur] === COMMA);
  if (cur < end && b[cur] === COMMA) cur++;
  else while (cur < end && b[cur] !== COMMA) cur++;
  return ok ? v : Number.NaN;
}

/** Field equal to one of two words: returns 0 for `a`, 1 for `b`, -1 otherwise. Steps over the comma. */
function wordField(buf: Uint8Array, end: number, a: Uint8Array, b: Uint8Array): number {
  const start = cur;
  while (cur < end && buf[cur] !== COMMA) cur++;
  const len = cur - start;
  if (cur < end) cur++;
  if (len === a.length && eq(buf, start, a)) return 0;
  if (len === b.length && eq(buf, start, b)) return 1;
  return -1;
}

function eq(buf: Uint8Array, at: number, w: Uint8Array): boolean {
  for (let i = 0; i < w.length; i++) if (buf[at + i] !== w[i]) return false;
  return true;
}

/**
 * Non-negative decimal as an integer of 10^-scale units; NaN if not a number.
 * Sets `offGrid` when digits beyond `scale` are not all zero.
 */
function decField(b: Uint8Array, end: number, scale: number): number {
  offGrid = false;
  const start = cur;
  let v = 0;
  let digits = 0;
  while (cur < end) {
    const d = b[cur]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    cur++;
  }
  digits = cur - start;
  let fracDigits = 0;
  if (cur < end && b[cur] === 46) {
    cur++;
    const fs = cur;
    while (cur < end) {
      const d = b[cur]! - 48;
      if (d < 0 || d > 9) break;
      if (fracDigits < scale) {
        v = v * 10 + d;
        fracDigits++;
      } else if (d !== 0) {
        offGrid = true;
      }
      cur++;
    }
    if (cur === fs) digits = 0;
  }
  const ok = digits > 0 && digits + fracDigits <= DIGITS_MAX && (cur === end || b[cur] === COMMA);
  commaAfter = cur < end && b[cur] === COMMA;
  if (cur < end) cur++;
  if (!ok) return Number.NaN;
  for (let k = fracDigits; k < scale; k++) v *= 10;
  return v;
}

function lineEnd(b: Uint8Array, pos: number): number {
  const nl = b.indexOf(LF, pos);
  return nl === -1 ? b.length : nl;
}

function raw(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

function countLines(b: Uint8Array): number {
  let n = 1;
  for (let at = b.indexOf(LF); at !== -1; at = b.indexOf(LF, at + 1)) n++;
  return n;
}

interface Grid {
  scale: number;
  tickUnits: number;
  lotUnits: number;
}

/** Both grids on one decimal scale, so one parse per field gives an exact multiple test. */
function grid(tickSize: string, lotSize: string, file: string): Grid {
  let scale: number;
  let tickUnits: number;
  let lotUnits: number;
  try {
    scale = Math.max(decimalScale(tickSize), decimalScale(lotSize));
    tickUnits = parseScaled(tickSize, scale);
    lotUnits = parseScaled(lotSize, scale);
  } catch (e) {
    throw inputError(file, null, `tick and lot sizes must be decimal strings (${(e as Error).message})`);
  }
  if (tickUnits <= 0 || lotUnits <= 0) throw inputError(file, null, 'tick and lot sizes must be positive');
  return { scale, tickUnits, lotUnits };
}

function checkHeader(b: Uint8Array, want: string, file: string): number {
  const end0 = lineEnd(b, 0);
  const end = end0 > 0 && b[end0 - 1] === CR ? end0 - 1 : end0;
  const got = raw(b, 0, end);
  if (got !== want) throw inputError(file, 1, `expected the header ${want}, found ${JSON.stringify(got.slice(0, 120))}`);
  return end0 + 1;
}

const W_TRUE = Buffer.from('true');
const W_FALSE = Buffer.from('false');
const W_BID = Buffer.from('bid');
const W_ASK = Buffer.from('ask');
const W_BUY = Buffer.from('buy');
const W_SELL = Buffer.from('sell');

type RowParser = (b: Uint8Array, end: number, k: number) => string | null;

/** Shared row loop: header check, blank lines, dead letters or strict errors. */
function eachRow(b: Uint8Array, header: string, o: TardisOptions, file: string, parse: RowParser, lineOf: Int32Array): number {
  let pos = checkHeader(b, header, file);
  let line = 1;
  let k = 0;
  while (pos < b.length) {
    line++;
    const nl = lineEnd(b, pos);
    const end = nl > pos && b[nl - 1] === CR ? nl - 1 : nl;
    const start = pos;
    pos = nl + 1;
    if (end === start) continue;
    cur = start;
    const reason = parse(b, end, k);
    if (reason === null) {
      lineOf[k] = line;
      k++;
    } else {
      if (o.strict === true) throw inputError(file, line, `${reason}: ${raw(b, start, end)}`);
      o.deadLetters?.add(file, line, reason, raw(b, start, end));
    }
  }
  return k;
}

export function parseTardisL2(src: Uint8Array, o: TardisOptions): TardisL2 {
  const file = o.file ?? '<incremental_book_L2>';
  const g = grid(o.tickSize, o.lotSize, file);
  const cap = countLines(src);
  const ts = new Float64Array(cap);
  const lts = new Float64Array(cap);
  const snap = new Uint8Array(cap);
  const side = new Uint8Array(cap);
  const px = new Float64Array(cap);
  const sz = new Float64Array(cap);
  const lineOf = new Int32Array(cap);
  const parse: RowParser = (b, end, k) => {
    if (!skipField(b, end) || !skipField(b, end)) return 'expected 8 columns';
    const t = uintField(b, end);
    if (t !== t) return 'timestamp is not an integer of microseconds';
    const lt = uintField(b, end);
    if (lt !== lt) return 'local_timestamp is not an integer of microseconds';
    const s = wordField(b, end, W_TRUE, W_FALSE);
    if (s < 0) return 'is_snapshot is not true or false';
    const sd = wordField(b, end, W_BID, W_ASK);
    if (sd < 0) return 'side is not bid or ask';
    if (b[cur] === 45) return 'negative price';
    const p = decField(b, end, g.scale);
    if (p !== p) return 'price is not a decimal number';
    if (offGrid || p % g.tickUnits !== 0) return `price is not a multiple of the tick size ${o.tickSize}`;
    if (!commaAfter) return 'expected 8 columns';
    // A sign is not part of the decimal grammar; say what it is rather than "not a number".
    if (b[cur] === 45) return 'negative amount (sizes are never below 0)';
    const a = decField(b, end, g.scale);
    if (a !== a) return 'amount is not a decimal number';
    if (commaAfter) return 'expected 8 columns';
    if (offGrid || a % g.lotUnits !== 0) return `amount is not a multiple of the lot size ${o.lotSize}`;
    ts[k] = t;
    lts[k] = lt;
    snap[k] = s === 0 ? 1 : 0;
    side[k] = sd === 0 ? Side.Buy : Side.Sell;
    px[k] = p / g.tickUnits;
    sz[k] = a / g.lotUnits;
    return null;
  };
  const n = eachRow(src, TARDIS_L2_HEADER, o, file, parse, lineOf);
  return {
    file,
    count: n,
    timestampUs: ts.subarray(0, n),
    localTimestampUs: lts.subarray(0, n),
    isSnapshot: snap.subarray(0, n),
    side: side.subarray(0, n),
    priceTicks: px.subarray(0, n),
    sizeLots: sz.subarray(0, n),
    line: lineOf.subarray(0, n),
  };
}

export function parseTardisTrades(src: Uint8Array, o: TardisOptions): TardisTrades {
  const file = o.file ?? '<trades>';
  const g = grid(o.tickSize, o.lotSize, file);
  const cap = countLines(src);
  const ts = new Float64Array(cap);
  const lts = new Float64Array(cap);
  const id = new Float64Array(cap);
  const side = new Int8Array(cap);
  const px = new Float64Array(cap);
  const sz = new Float64Array(cap);
  const lineOf = new Int32Array(cap);
  const parse: RowParser = (b, end, k) => {
    if (!skipField(b, end) || !skipField(b, end)) return 'expected 8 columns';
    const t = uintField(b, end);
    if (t !== t) return 'timestamp is not an integer of microseconds';
    const lt = uintField(b, end);
    if (lt !== lt) return 'local_timestamp is not an integer of microseconds';
    // Ids are venue-specific (some are not numbers); only integers are kept.
    const tid = uintField(b, end);
    const sd = wordField(b, end, W_BUY, W_SELL);
    if (b[cur] === 45) return 'negative price';
    const p = decField(b, end, g.scale);
    if (p !== p) return 'price is not a decimal number';
    if (offGrid || p % g.tickUnits !== 0) return `price is not a multiple of the tick size ${o.tickSize}`;
    if (!commaAfter) return 'expected 8 columns';
    // A sign is not part of the decimal grammar; say what it is rather than "not a number".
    if (b[cur] === 45) return 'negative amount (sizes are never below 0)';
    const a = decField(b, end, g.scale);
    if (a !== a) return 'amount is not a decimal number';
    if (commaAfter) return 'expected 8 columns';
    if (offGrid || a % g.lotUnits !== 0) return `amount is not a multiple of the lot size ${o.lotSize}`;
    if (a === 0) return 'a trade must have a positive amount';
    ts[k] = t;
    lts[k] = lt;
    id[k] = tid === tid ? tid : -1;
    side[k] = sd === 0 ? Side.Buy : sd === 1 ? Side.Sell : -1;
    px[k] = p / g.tickUnits;
    sz[k] = a / g.lotUnits;
    return null;
  };
  const n = eachRow(src, TARDIS_TRADES_HEADER, o, file, parse, lineOf);
  return {
    file,
    count: n,
    timestampUs: ts.subarray(0, n),
    localTimestampUs: lts.subarray(0, n),
    id: id.subarray(0, n),
    side: side.subarray(0, n),
    priceTicks: px.subarray(0, n),
    sizeLots: sz.subarray(0, n),
    line: lineOf.subarray(0, n),
  };
}

/**
 * Applies incremental_book_L2 rows to a LevelBook one at a time. A run of
 * snapshot rows is one snapshot that replaces the book: the first snapshot row
 * after an update (or with a new timestamp) clears it. Every row sets an
 * absolute level size; 0 removes the level.
 */
export class TardisL2Replayer {
  private inSnapshot = false;
  private snapshotTs = -1;
  snapshots = 0;

  constructor(readonly book: LevelBook) {}

  apply(l2: TardisL2, k: number): void {
    if (l2.isSnapshot[k] === 1) {
      const ts = l2.timestampUs[k]!;
      if (!this.inSnapshot || ts !== this.snapshotTs) {
        this.book.clear();
        this.snapshots++;
        this.snapshotTs = ts;
      }
      this.inSnapshot = true;
    } else {
      this.inSnapshot = false;
    }
    this.book.set(l2.side[k] as Side, l2.priceTicks[k]!, l2.sizeLots[k]!);
  }
}

/** Replays every row; `onRow` sees the book after each. */
export function replayTardisL2(l2: TardisL2, book: LevelBook, onRow?: (book: LevelBook, k: number) => void): { rows: number; snapshots: number } {
  const r = new TardisL2Replayer(book);
  for (let k = 0; k < l2.count; k++) {
    r.apply(l2, k);
    if (onRow !== undefined) onRow(book, k);
  }
  return { rows: l2.count, snapshots: r.snapshots };
}
