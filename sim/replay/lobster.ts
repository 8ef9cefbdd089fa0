import { readFileSync } from 'node:fs';
import { inputError, UserError } from '../errors.js';
import { DeadLetters } from './dead-letter.js';

/**
 * LOBSTER (NASDAQ, academic format) message and order book files, parsed at
 * the byte level into struct-of-arrays so a replay loop touches only typed
 * arrays. No split, no parseFloat, no string per row: a 92,000-row hour must
 * parse in a few milliseconds, and the timestamps must be exact nanoseconds
 * (one row of the AAPL sample carries binary float noise in its text).
 */

/** Message types as LOBSTER numbers them; 0 marks a malformed row kept only to hold its place. */
export enum LobsterType {
  Invalid = 0,
  Add = 1,
  PartialCancel = 2,
  Delete = 3,
  ExecuteVisible = 4,
  ExecuteHidden = 5,
  Cross = 6,
  Halt = 7,
}

/** Empty-level prices in LOBSTER order book files. */
export const LOBSTER_EMPTY_ASK = 9_999_999_999;
export const LOBSTER_EMPTY_BID = -9_999_999_999;
/** LOBSTER prices are dollars x 10000. */
export const LOBSTER_PRICE_SCALE = 4;

/** Parsed message file: row k (0-based) of every array is message k+1 of the file. */
export interface LobsterMessages {
  readonly file: string;
  readonly count: number;
  /** Nanoseconds after midnight, exact. */
  readonly timeNs: Float64Array;
  readonly type: Int8Array;
  readonly orderId: Float64Array;
  readonly size: Float64Array;
  /** Dollars x 10000. */
  readonly price: Float64Array;
  /** 1 = buy order, -1 = sell order. */
  readonly direction: Int8Array;
  /** 1-based line in the file (differs from k+1 only when the file has blank lines). */
  readonly line: Int32Array;
}

/**
 * Parsed order book file: row k holds `levels` x (ask px, ask size, bid px,
 * bid size) at data[(k * levels + j) * 4 ...], as in the file. A malformed row
 * has valid[k] = 0 and is never compared.
 */
export interface LobsterBookFile {
  readonly file: string;
  readonly rows: number;
  readonly levels: number;
  readonly data: Float64Array;
  readonly valid: Uint8Array;
  readonly line: Int32Array;
}

export interface LobsterParseOptions {
  /** Name used in errors and dead letters; defaults to "<messages>" / "<orderbook>". */
  file?: string;
  /** Throw a UserError at the first malformed row instead of collecting it. */
  strict?: boolean;
  deadLetters?: DeadLetters;
}

/** Reads a whole input file, or passes a buffer through; an unreadable path is the user's error. */
export function readInput(src: Uint8Array | string, what: string): Uint8Array {
  if (typeof src !== 'string') return src;
  try {
    return readFileSync(src);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new UserError(`${src}: cannot read the ${what} file (${why})`);
  }
}

const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const LF = 10;
const CR = 13;
/** More digits than this cannot be a safe integer, so the field is rejected rather than silently rounded. */
const INT_DIGITS_MAX = 15;
/** A time of day in seconds never needs more; keeps seconds x 1e9 a safe integer. */
const SECONDS_DIGITS_MAX = 6;

// Field scanner state. Module-level so the scanners return a plain number and
// allocate nothing; the parsers are synchronous, so nothing else can interleave.
let cur = 0;

/** Signed integer field from `cur` to the next comma or `end`; NaN if malformed. Leaves `cur` on the delimiter. */
function intField(b: Uint8Array, end: number): number {
  let i = cur;
  let neg = false;
  if (i < end && b[i] === MINUS) {
    neg = true;
    i++;
  }
  const start = i;
  let v = 0;
  while (i < end) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  const n = i - start;
  cur = i;
  if (n === 0 || n > INT_DIGITS_MAX || (i < end && b[i] !== COMMA)) return Number.NaN;
  return neg ? -v : v;
}

/**
 * Seconds as a decimal string to integer nanoseconds. Digits beyond the ninth
 * are float noise from whoever wrote the file (e.g. "35821.088778456004"), so
 * the tenth rounds and the rest are only checked to be digits.
 */
function timeField(b: Uint8Array, end: number): number {
  let i = cur;
  const start = i;
  let sec = 0;
  while (i < end) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    sec = sec * 10 + d;
    i++;
  }
  const intDigits = i - start;
  let frac = 0;
  let fracDigits = 0;
  let roundUp = 0;
  let bad = intDigits === 0 || intDigits > SECONDS_DIGITS_MAX;
  if (i < end && b[i] === DOT) {
    i++;
    const fs = i;
    while (i < end) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      if (fracDigits < 9) {
        frac = frac * 10 + d;
        fracDigits++;
      } else if (i - fs === 9 && d >= 5) {
        roundUp = 1;
      }
      i++;
    }
    if (i === fs) bad = true;
  }
  cur = i;
  if (bad || (i < end && b[i] !== COMMA)) return Number.NaN;
  for (let k = fracDigits; k < 9; k++) frac *= 10;
  return sec * 1_000_000_000 + frac + roundUp;
}

/** After a field: step over a comma and report whether one was there. */
function nextField(b: Uint8Array, end: number): boolean {
  if (cur < end && b[cur] === COMMA) {
    cur++;
    return true;
  }
  return false;
}

function countLines(b: Uint8Array): number {
  let n = 0;
  let at = b.indexOf(LF);
  while (at !== -1) {
    n++;
    at = b.indexOf(LF, at + 1);
  }
  return b.length > 0 && b[b.length - 1] !== LF ? n + 1 : n;
}

function rawText(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

const REASONS = {
  columns: 'expected 6 columns: time,type,order_id,size,price,direction',
  time: 'time is not a decimal number of seconds',
  type: 'type is not one of 1..7',
  orderId: 'order id is not an integer',
  size: 'size is not an integer',
  negSize: 'size is negative',
  zeroSize: 'size must be positive for types 1 to 4',
  price: 'price is not an integer',
  direction: 'direction is not 1 or -1',
} as const;

/** Parses a LOBSTER message file. Malformed rows become Invalid placeholders (so row k still pairs with book row k) and dead letters. */
export function parseLobsterMessages(src: Uint8Array, opts: LobsterParseOptions = {}): LobsterMessages {
  const file = opts.file ?? '<messages>';
  const dl = opts.deadLetters;
  const strict = opts.strict === true;
  const cap = countLines(src);
  const timeNs = new Float64Array(cap);
  const type = new Int8Array(cap);
  const orderId = new Float64Array(cap);
  const size = new Float64Array(cap);
  const price = new Float64Array(cap);
  const direction = new Int8Array(cap);
  const lineOf = new Int32Array(cap);
  const len = src.length;
  let k = 0;
  let line = 0;
  let pos = 0;
  while (pos < len) {
    line++;
    let nl = src.indexOf(LF, pos);
    if (nl === -1) nl = len;
    let end = nl;
    if (end > pos && src[end - 1] === CR) end--;
    const start = pos;
    pos = nl + 1;
    if (end === start) continue;

    cur = start;
    let reason: string | null = null;
    const t = timeField(src, end);
    let ty = 0;
    let id = 0;
    let sz = 0;
    let px = 0;
    let dir = 0;
    if (t !== t) reason = REASONS.time;
    else if (!nextField(src, end)) reason = REASONS.columns;
    else {
      ty = intField(src, end);
      if (ty !== ty || ty < 1 || ty > 7) reason = REASONS.type;
      else if (!nextField(src, end)) reason = REASONS.columns;
      else {
        id = intField(src, end);
        if (id !== id) reason = REASONS.orderId;
        else if (!nextField(src, end)) reason = REASONS.columns;
        else {
          sz = intField(src, end);
          if (sz !== sz) reason = REASONS.size;
          else if (sz < 0) reason = REASONS.negSize;
          else if (sz === 0 && ty <= LobsterType.ExecuteVisible) reason = REASONS.zeroSize;
          else if (!nextField(src, end)) reason = REASONS.columns;
          else {
            px = intField(src, end);
            if (px !== px) reason = REASONS.price;
            else if (!nextField(src, end)) reason = REASONS.columns;
            else {
              dir = intField(src, end);
              if (dir === dir && cur !== end) reason = REASONS.columns;
              else if (dir !== 1 && dir !== -1) reason = REASONS.direction;
            }
          }
        }
      }
    }
    lineOf[k] = line;
    if (reason !== null) {
      if (strict) throw inputError(file, line, `${reason}: ${rawText(src, start, end)}`);
      dl?.add(file, line, reason, rawText(src, start, end));
      type[k] = LobsterType.Invalid;
      timeNs[k] = k > 0 ? timeNs[k - 1]! : 0;
    } else {
      timeNs[k] = t;
      type[k] = ty;
      orderId[k] = id;
      size[k] = sz;
      price[k] = px;
      direction[k] = dir;
    }
    k++;
  }
  return {
    file,
    count: k,
    timeNs: timeNs.subarray(0, k),
    type: type.subarray(0, k),
    orderId: orderId.subarray(0, k),
    size: size.subarray(0, k),
    price: price.subarray(0, k),
    direction: direction.subarray(0, k),
    line: lineOf.subarray(0, k),
  };
}

/** Counts the columns of the first non-blank line: an order book file's depth is 4 x levels. */
function firstRowColumns(b: Uint8Array): number {
  let pos = 0;
  while (pos < b.length && (b[pos] === LF || b[pos] === CR)) pos++;
  let cols = pos < b.length ? 1 : 0;
  for (; pos < b.length && b[pos] !== LF && b[pos] !== CR; pos++) if (b[pos] === COMMA) cols++;
  return cols;
}

/**
 * Parses a LOBSTER order book file. The depth comes from the first row unless
 * `levels` is given; rows with another column count or a non-integer field are
 * dead letters and are marked invalid rather than dropped, keeping row k
 * paired with message k.
 */
export function parseLobsterOrderbook(src: Uint8Array, opts: LobsterParseOptions & { levels?: number } = {}): LobsterBookFile {
  const file = opts.file ?? '<orderbook>';
  const dl = opts.deadLetters;
  const strict = opts.strict === true;
  const firstCols = firstRowColumns(src);
  const levels = opts.levels ?? firstCols / 4;
  if (opts.levels !== undefined && firstCols !== levels * 4 && firstCols > 0) {
    throw inputError(file, 1, `expected ${levels} levels (${levels * 4} columns), found ${firstCols} columns`);
  }
  if (firstCols > 0 && (!Number.isInteger(levels) || levels < 1)) {
    throw inputError(file, 1, `an order book row has 4 columns per level; found ${firstCols} columns`);
  }
  const cols = levels * 4;
  const cap = countLines(src);
  const data = new Float64Array(cap * cols);
  const valid = new Uint8Array(cap);
  const lineOf = new Int32Array(cap);
  const len = src.length;
  let k = 0;
  let line = 0;
  let pos = 0;
  while (pos < len) {
    line++;
    let nl = src.indexOf(LF, pos);
    if (nl === -1) nl = len;
    let end = nl;
    if (end > pos && src[end - 1] === CR) end--;
    const start = pos;
    pos = nl + 1;
    if (end === start) continue;

    cur = start;
    const base = k * cols;
    let reason: string | null = null;
    for (let c = 0; c < cols; c++) {
      const v = intField(src, end);
      if (v !== v) {
        reason = `column ${c + 1} is not an integer`;
        break;
      }
      if ((c & 1) === 1 && v < 0) {
        reason = `size in column ${c + 1} is negative`;
        break;
      }
      data[base + c] = v;
      const more = nextField(src, end);
      if (more !== (c < cols - 1)) {
        reason = `expected ${cols} columns (${levels} levels)`;
        break;
      }
    }
    lineOf[k] = line;
    if (reason !== null) {
      if (strict) throw inputError(file, line, reason);
      dl?.add(file, line, reason, rawText(src, start, end));
      valid[k] = 0;
    } else {
      valid[k] = 1;
    }
    k++;
  }
  return { file, rows: k, levels, data: data.subarray(0, k * cols), valid: valid.subarray(0, k), line: lineOf.subarray(0, k) };
}
