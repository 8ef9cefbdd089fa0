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

function grownF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
function grownI8(a: Int8Array, n: number): Int8Array {
  const b = new Int8Array(n);
  b.set(a);
  return b;
}
function grownU8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
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
  // Sized from the byte count (a typical row is ~40 bytes) and doubled if the
  // guess was short: cheaper than a counting pass over the whole file.
  let cap = (src.length >> 5) + 16;
  let timeNs: Float64Array = new Float64Array(cap);
  let type: Int8Array = new Int8Array(cap);
  let orderId: Float64Array = new Float64Array(cap);
  let size: Float64Array = new Float64Array(cap);
  let price: Float64Array = new Float64Array(cap);
  let direction: Int8Array = new Int8Array(cap);
  let lineOf: Int32Array = new Int32Array(cap);
  const len = src.length;
  let k = 0;
  let line = 0;
  let pos = 0;
  while (pos < len) {
    line++;
    if (k === cap) {
      cap *= 2;
      timeNs = grownF64(timeNs, cap);
      type = grownI8(type, cap);
      orderId = grownF64(orderId, cap);
      size = grownF64(size, cap);
      price = grownF64(price, cap);
      direction = grownI8(direction, cap);
      lineOf = grownI32(lineOf, cap);
    }
    // Fast path: one pass over a well-formed row with locals only. Anything
    // unexpected falls through to the careful parser below, which finds the reason.
    fast: {
      const b = src;
      let i = pos;
      let c = b[i]!;
      let sec = 0;
      while (c >= 48 && c <= 57) {
        sec = sec * 10 + (c - 48);
        c = b[++i]!;
      }
      if (i === pos || i - pos > SECONDS_DIGITS_MAX) break fast;
      let frac = 0;
      let fd = 0;
      let roundUp = 0;
      if (c === DOT) {
        const fs = ++i;
        c = b[i]!;
        while (c >= 48 && c <= 57) {
          if (fd < 9) {
            frac = frac * 10 + (c - 48);
            fd++;
          } else if (i - fs === 9 && c >= 53) roundUp = 1;
          c = b[++i]!;
        }
        if (i === fs) break fast;
        for (let z = fd; z < 9; z++) frac *= 10;
      } else frac = 0;
      if (c !== COMMA) break fast;
      c = b[++i]!;
      const ty = c - 48;
      if (ty < 1 || ty > 7 || b[++i] !== COMMA) break fast;
      c = b[++i]!;
      let idNeg = false;
      if (c === MINUS) {
        idNeg = true;
        c = b[++i]!;
      }
      let id = 0;
      let s0 = i;
      while (c >= 48 && c <= 57) {
        id = id * 10 + (c - 48);
        c = b[++i]!;
      }
      if (i === s0 || i - s0 > INT_DIGITS_MAX || c !== COMMA) break fast;
      c = b[++i]!;
      let sz = 0;
      s0 = i;
      while (c >= 48 && c <= 57) {
        sz = sz * 10 + (c - 48);
        c = b[++i]!;
      }
      if (i === s0 || i - s0 > INT_DIGITS_MAX || c !== COMMA || (sz === 0 && ty <= LobsterType.ExecuteVisible)) break fast;
      c = b[++i]!;
      let pxNeg = false;
      if (c === MINUS) {
        pxNeg = true;
        c = b[++i]!;
      }
      let px = 0;
      s0 = i;
      while (c >= 48 && c <= 57) {
        px = px * 10 + (c - 48);
        c = b[++i]!;
      }
      if (i === s0 || i - s0 > INT_DIGITS_MAX || c !== COMMA) break fast;
      c = b[++i]!;
      let dir = 1;
      if (c === MINUS) {
        dir = -1;
        c = b[++i]!;
      }
      if (c !== 49) break fast;
      c = b[++i]!;
      if (c === CR) c = b[++i]!;
      if (c === LF) i++;
      else if (i < len) break fast;
      timeNs[k] = sec * 1_000_000_000 + frac + roundUp;
      type[k] = ty;
      orderId[k] = idNeg ? -id : id;
      size[k] = sz;
      price[k] = pxNeg ? -px : px;
      direction[k] = dir;
      lineOf[k] = line;
      k++;
      pos = i;
      continue;
    }

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
  // A field is at least two bytes with its comma; ~6 is typical. Grown if short.
  let cap = Math.ceil(src.length / (cols * 5)) + 16;
  let data: Float64Array = new Float64Array(cap * cols);
  let valid: Uint8Array = new Uint8Array(cap);
  let lineOf: Int32Array = new Int32Array(cap);
  const len = src.length;
  let k = 0;
  let line = 0;
  let pos = 0;
  while (pos < len) {
    line++;
    if (k === cap) {
      cap *= 2;
      data = grownF64(data, cap * cols);
      valid = grownU8(valid, cap);
      lineOf = grownI32(lineOf, cap);
    }
    const base = k * cols;
    // Fast path for a well-formed row; the careful parser below finds the reason otherwise.
    fast: {
      const b = src;
      let i = pos;
      let c = b[i]!;
      for (let col = 0; col < cols; col++) {
        let neg = false;
        if (c === MINUS) {
          neg = true;
          c = b[++i]!;
        }
        const s0 = i;
        let v = 0;
        while (c >= 48 && c <= 57) {
          v = v * 10 + (c - 48);
          c = b[++i]!;
        }
        if (i === s0 || i - s0 > INT_DIGITS_MAX || (neg && (col & 1) === 1)) break fast;
        data[base + col] = neg ? -v : v;
        if (col < cols - 1) {
          if (c !== COMMA) break fast;
          c = b[++i]!;
        }
      }
      if (c === CR) c = b[++i]!;
      if (c === LF) i++;
      else if (i < len) break fast;
      valid[k] = 1;
      lineOf[k] = line;
      k++;
      pos = i;
      continue;
    }

    let nl = src.indexOf(LF, pos);
    if (nl === -1) nl = len;
    let end = nl;
    if (end > pos && src[end - 1] === CR) end--;
    const start = pos;
    pos = nl + 1;
    if (end === start) continue;

    cur = start;
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
