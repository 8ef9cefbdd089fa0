import { writeFileSync } from 'node:fs';
import { assert, InvariantError } from '../../engine/assert.js';
import { LevelBook } from '../../engine/level-book.js';
import { Side } from '../../engine/types.js';
import { UserError } from '../errors.js';
import { LOBSTER_EMPTY_ASK, LOBSTER_EMPTY_BID, LobsterType } from './lobster.js';

/**
 * Writing LOBSTER files: order book rows from a LevelBook (replay's
 * --book-out), and message + order book rows from a stream of book events
 * (recording a simulated day so the replay tools can read it back).
 */

const ROW_BYTES_MAX = 64;

/** A growable byte buffer with integer formatting, so writing a row allocates no strings. */
export class ByteSink {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = new Uint8Array(initialBytes);
  }

  get length(): number {
    return this.len;
  }

  /** Makes room for `n` more bytes, doubling so the cost is amortised. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(c: number): void {
    this.buf[this.len++] = c;
  }

  /** A safe integer in decimal; caller has reserved room. */
  int(n: number): void {
    // Per field: throw directly so no message string is built on the good path.
    if (!Number.isSafeInteger(n)) throw new InvariantError(`not a safe integer: ${n}`);
    if (n < 0) {
      this.buf[this.len++] = 45;
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    let at = this.len + digits;
    this.len = at;
    do {
      const q = Math.floor(n / 10);
      this.buf[--at] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  /** Nanoseconds after midnight as LOBSTER's seconds with nine decimals. */
  timeNs(ns: number): void {
    if (!Number.isSafeInteger(ns) || ns < 0) throw new InvariantError(`bad time: ${ns}`);
    const sec = Math.floor(ns / 1_000_000_000);
    let frac = ns - sec * 1_000_000_000;
    this.int(sec);
    this.buf[this.len++] = 46;
    for (let i = 8; i >= 0; i--) {
      const q = Math.floor(frac / 10);
      this.buf[this.len + i] = 48 + (frac - q * 10);
      frac = q;
    }
    this.len += 9;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len);
  }
}

/**
 * Appends one LOBSTER order book row: `levels` x (ask px, ask size, bid px,
 * bid size), empty levels as LOBSTER writes them. `priceScale` converts book
 * prices to LOBSTER's dollars x 10000 (1 when the book already holds those).
 */
export function appendBookRow(out: ByteSink, book: LevelBook, levels: number, priceScale = 1): void {
  out.reserve(levels * ROW_BYTES_MAX + 1);
  for (let j = 0; j < levels; j++) {
    if (j > 0) out.byte(44);
    if (j < book.depth(Side.Sell)) {
      out.int(book.price(Side.Sell, j) * priceScale);
      out.byte(44);
      out.int(book.size(Side.Sell, j));
    } else {
      out.int(LOBSTER_EMPTY_ASK);
      out.byte(44);
      out.byte(48);
    }
    out.byte(44);
    if (j < book.depth(Side.Buy)) {
      out.int(book.price(Side.Buy, j) * priceScale);
      out.byte(44);
      out.int(book.size(Side.Buy, j));
    } else {
      out.int(LOBSTER_EMPTY_BID);
      out.byte(44);
      out.byte(48);
    }
  }
  out.byte(10);
}

export interface LobsterRecorderOptions {
  /** Depth of the order book rows. */
  levels: number;
  /** LOBSTER price units (dollars x 10000) per tick: 100 for a 0.01 tick. */
  pricePerTick: number;
  /** The book to keep; a new one by default. The recorder applies every event to it. */
  book?: LevelBook;
}

/**
 * Records book events as a LOBSTER message file and its order book file, one
 * book row after each message, the way LOBSTER pairs them. Every message is
 * written, whatever its depth, so a replay of the recording knows every level
 * and can match every row.
 */
export class LobsterRecorder {
  readonly book: LevelBook;
  readonly levels: number;
  readonly pricePerTick: number;
  private readonly msgs = new ByteSink();
  private readonly rows = new ByteSink();
  private count = 0;
  private lastNs = 0;

  constructor(opts: LobsterRecorderOptions) {
    assert(Number.isSafeInteger(opts.levels) && opts.levels > 0, 'levels must be a positive integer');
    assert(Number.isSafeInteger(opts.pricePerTick) && opts.pricePerTick > 0, 'pricePerTick must be a positive integer');
    this.levels = opts.levels;
    this.pricePerTick = opts.pricePerTick;
    this.book = opts.book ?? new LevelBook();
  }

  /** Messages recorded so far. */
  get messageCount(): number {
    return this.count;
  }

  /** A new limit order rests (type 1). */
  add(tsNs: number, orderId: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.book.add(side, priceTicks, sizeLots);
    this.message(tsNs, LobsterType.Add, orderId, sizeLots, priceTicks, side);
  }

  /** Part of a resting order is cancelled (type 2); `sizeLots` is the cancelled part. */
  cancel(tsNs: number, orderId: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.book.reduce(side, priceTicks, sizeLots);
    this.message(tsNs, LobsterType.PartialCancel, orderId, sizeLots, priceTicks, side);
  }

  /** A resting order is removed (type 3); `sizeLots` is what it still had. */
  delete(tsNs: number, orderId: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.book.reduce(side, priceTicks, sizeLots);
    this.message(tsNs, LobsterType.Delete, orderId, sizeLots, priceTicks, side);
  }

  /** A visible resting order trades (type 4); `side` is the resting order's side. */
  execute(tsNs: number, orderId: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.book.reduce(side, priceTicks, sizeLots);
    this.message(tsNs, LobsterType.ExecuteVisible, orderId, sizeLots, priceTicks, side);
  }

  /** A hidden order trades (type 5): printed, book unchanged. */
  executeHidden(tsNs: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.message(tsNs, LobsterType.ExecuteHidden, 0, sizeLots, priceTicks, side);
  }

  /** Halt (-1), quoting resumes (0), trading resumes (1): type 7, book unchanged. */
  halt(tsNs: number, code: -1 | 0 | 1): void {
    this.msgs.reserve(ROW_BYTES_MAX);
    this.msgs.timeNs(this.checkTime(tsNs));
    this.msgs.byte(44);
    this.msgs.int(LobsterType.Halt);
    this.msgs.byte(44);
    this.msgs.int(0);
    this.msgs.byte(44);
    this.msgs.int(0);
    this.msgs.byte(44);
    this.msgs.int(code);
    this.msgs.byte(44);
    this.msgs.int(-1);
    this.msgs.byte(10);
    this.afterMessage();
  }

  messagesBuffer(): Buffer {
    return this.msgs.toBuffer();
  }

  orderbookBuffer(): Buffer {
    return this.rows.toBuffer();
  }

  write(messagesPath: string, orderbookPath: string): void {
    for (const [path, body] of [
      [messagesPath, this.messagesBuffer()],
      [orderbookPath, this.orderbookBuffer()],
    ] as const) {
      try {
        writeFileSync(path, body);
      } catch (e) {
        throw new UserError(`${path}: cannot write the LOBSTER file (${(e as Error).message})`);
      }
    }
  }

  private checkTime(tsNs: number): number {
    if (tsNs < this.lastNs) throw new InvariantError(`LOBSTER messages must be in time order: ${tsNs} after ${this.lastNs}`);
    this.lastNs = tsNs;
    return tsNs;
  }

  private message(tsNs: number, type: LobsterType, orderId: number, sizeLots: number, priceTicks: number, side: Side): void {
    const m = this.msgs;
    m.reserve(ROW_BYTES_MAX);
    m.timeNs(this.checkTime(tsNs));
    m.byte(44);
    m.int(type);
    m.byte(44);
    m.int(orderId);
    m.byte(44);
    m.int(sizeLots);
    m.byte(44);
    m.int(priceTicks * this.pricePerTick);
    m.byte(44);
    m.int(side === Side.Buy ? 1 : -1);
    m.byte(10);
    this.afterMessage();
  }

  private afterMessage(): void {
    this.count++;
    appendBookRow(this.rows, this.book, this.levels, this.pricePerTick);
  }
}
