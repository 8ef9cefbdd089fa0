import { writeFileSync } from 'node:fs';
import { LevelBook, OrderIndex } from '../../engine/level-book.js';
import { Side } from '../../engine/types.js';
import { inputError, UserError } from '../errors.js';
import { DeadLetters, type DeadLetter } from './dead-letter.js';
import {
  LOBSTER_EMPTY_ASK,
  LOBSTER_EMPTY_BID,
  LobsterType,
  parseLobsterMessages,
  parseLobsterOrderbook,
  readInput,
  type LobsterBookFile,
  type LobsterMessages,
} from './lobster.js';
import { appendBookRow, ByteSink } from './lobster-writer.js';

/**
 * Stateful LOBSTER replay, proved against the file's own order book: seed the
 * book once from one book row, apply every later message, and after message k
 * compare the top K levels with book row k. A mismatch is resynced from the
 * file and counted, because a depth-limited file never tells a replay about a
 * level that moves in from beyond its depth.
 */

export interface LobsterReplayOptions {
  /** Message file path or its bytes. */
  messages: Uint8Array | string;
  /** Order book file path or its bytes; row k is the book after message k. */
  orderbook: Uint8Array | string;
  /** Book file whose first row seeds the replay (default: `orderbook`). */
  seedBook?: Uint8Array | string;
  /** Levels of the order book file; inferred from its first row when absent. */
  levels?: number;
  /** Levels compared per row (default: all levels of the order book file); 0 compares nothing. */
  compare?: number;
  /** Writes the replayed book after each message here, in LOBSTER order book format. */
  bookOut?: string;
  strict?: boolean;
  /** Collector for malformed rows; a new one when absent. */
  deadLetters?: DeadLetters;
  /** Milliseconds clock for the rate figures; injected so sim/ never reads the wall clock itself. */
  now?: () => number;
  /**
   * Keep order ids -> side/price/size and count messages about orders the
   * replay never saw added (placed before the file starts) or that disagree
   * with the known order. The book is still changed by the message's own price
   * and size either way, so the counts are diagnostics, not corrections.
   */
  trackOrders?: boolean;
}

/** Order-level diagnostics when tracking ids. */
export interface LobsterOrderStats {
  /** Cancels, deletes and executions of ids never added in the file. */
  unknown: number;
  /** Messages whose side or price differ from the known order's, or that remove more than it has. */
  inconsistent: number;
  /** Adds of an id that is already live. */
  duplicateAdds: number;
  /** Orders still live at the end. */
  liveAtEnd: number;
}

export interface LobsterReplayResult {
  /** Book rows checked: every row after the seeding row 1. */
  rows: number;
  matched: number;
  resynced: number;
  /** Rows not compared because the book row was malformed. */
  unchecked: number;
  /** 1-based line of the first order book row that did not match, or null. */
  firstMismatchRow: number | null;
  /** Messages per second over parsing and replay together (0 without a clock). */
  messagesPerSecond: number;
  parseMs: number;
  replayMs: number;
  levels: number;
  compare: number;
  deadLetterCount: number;
  deadLetters: DeadLetter[];
  /** Present when trackOrders was set. */
  orders?: LobsterOrderStats;
}

/** Counts from replaying parsed files; the part of a replay the benchmark times on its own. */
export interface LobsterReplayCounts {
  rows: number;
  matched: number;
  resynced: number;
  unchecked: number;
  firstMismatchRow: number | null;
  orders?: LobsterOrderStats;
}

/** Sets the book from one row of an order book file (the pre-open book the messages start from). */
export function seedFromBookRow(book: LevelBook, file: LobsterBookFile, row: number): void {
  book.clear();
  const base = row * file.levels * 4;
  const d = file.data;
  for (let j = 0; j < file.levels; j++) {
    const o = base + j * 4;
    if (d[o]! !== LOBSTER_EMPTY_ASK && d[o + 1]! > 0) book.set(Side.Sell, d[o]!, d[o + 1]!);
    if (d[o + 2]! !== LOBSTER_EMPTY_BID && d[o + 3]! > 0) book.set(Side.Buy, d[o + 2]!, d[o + 3]!);
  }
}

/** Applies message k to the book. Hidden executions, crosses and halts leave the displayed book as it was. */
export function applyLobsterMessage(book: LevelBook, m: LobsterMessages, k: number): void {
  const type = m.type[k]!;
  const side = m.direction[k]! === 1 ? Side.Buy : Side.Sell;
  if (type === LobsterType.Add) book.add(side, m.price[k]!, m.size[k]!);
  else if (type === LobsterType.PartialCancel || type === LobsterType.Delete || type === LobsterType.ExecuteVisible) {
    // By price and size, not by order id: orders placed before the file starts
    // were never seen, yet their cancels and executions must still shrink their level.
    book.reduce(side, m.price[k]!, m.size[k]!);
  }
}

/** As applyLobsterMessage, also keeping `orders` and counting what it cannot explain into `stats`. */
export function applyLobsterMessageTracked(book: LevelBook, orders: OrderIndex, stats: LobsterOrderStats, m: LobsterMessages, k: number): void {
  const type = m.type[k]!;
  if (type === LobsterType.Invalid || type > LobsterType.ExecuteVisible) return;
  const side = m.direction[k]! === 1 ? Side.Buy : Side.Sell;
  const id = m.orderId[k]!;
  const price = m.price[k]!;
  const size = m.size[k]!;
  if (type === LobsterType.Add) {
    book.add(side, price, size);
    if (!orders.insert(id, side, price, size)) stats.duplicateAdds++;
    return;
  }
  book.reduce(side, price, size);
  const slot = orders.find(id);
  if (slot < 0) {
    stats.unknown++;
    return;
  }
  const left = orders.size(slot) - size;
  if (orders.side(slot) !== side || orders.price(slot) !== price || left < 0 || (type === LobsterType.Delete && left !== 0)) stats.inconsistent++;
  orders.setSize(slot, type === LobsterType.Delete ? 0 : left);
}

/** Whether the book's top `k` levels on one side equal row `row` of the file. */
function sideMatches(book: LevelBook, side: Side, file: LobsterBookFile, row: number, k: number): boolean {
  const d = file.data;
  const base = row * file.levels * 4 + (side === Side.Sell ? 0 : 2);
  const depth = book.depth(side);
  const empty = side === Side.Sell ? LOBSTER_EMPTY_ASK : LOBSTER_EMPTY_BID;
  for (let j = 0; j < k; j++) {
    const o = base + j * 4;
    if (j < depth) {
      if (d[o]! !== book.price(side, j) || d[o + 1]! !== book.size(side, j)) return false;
    } else if (d[o]! !== empty) {
      return false;
    }
  }
  return true;
}

/**
 * Makes the top `k` levels of one side equal the file's row: every book level
 * at or better than the file's k-th level goes (all of them when the file
 * shows fewer than k levels, i.e. the side really is that thin), then the
 * file's levels are written. Levels beyond are kept: the file says nothing of them.
 */
function resyncSide(book: LevelBook, side: Side, file: LobsterBookFile, row: number, k: number): void {
  const d = file.data;
  const base = row * file.levels * 4 + (side === Side.Sell ? 0 : 2);
  const empty = side === Side.Sell ? LOBSTER_EMPTY_ASK : LOBSTER_EMPTY_BID;
  const worst = d[base + (k - 1) * 4]!;
  if (worst === empty) book.clearSide(side);
  else book.deleteAtOrBetter(side, worst);
  for (let j = 0; j < k; j++) {
    const o = base + j * 4;
    if (d[o]! === empty) break;
    if (d[o + 1]! > 0) book.set(side, d[o]!, d[o + 1]!);
  }
}

/**
 * Replays parsed files into `book` (already seeded). `onRow` sees the book
 * after each message, before any resync (book-out writes what the replay
 * produced, not what the file corrected it to).
 */
export function replayParsed(
  book: LevelBook,
  msgs: LobsterMessages,
  ob: LobsterBookFile | null,
  compare: number,
  onRow?: (book: LevelBook, k: number) => void,
  orders: OrderIndex | null = null,
): LobsterReplayCounts {
  const stats: LobsterOrderStats = { unknown: 0, inconsistent: 0, duplicateAdds: 0, liveAtEnd: 0 };
  let matched = 0;
  let resynced = 0;
  let unchecked = 0;
  let firstMismatchRow: number | null = null;
  const n = msgs.count;
  const doCompare = ob !== null && compare > 0;
  for (let k = 1; k < n; k++) {
    if (orders === null) applyLobsterMessage(book, msgs, k);
    else applyLobsterMessageTracked(book, orders, stats, msgs, k);
    if (onRow !== undefined) onRow(book, k);
    if (!doCompare) continue;
    if (ob.valid[k] === 0) {
      unchecked++;
      continue;
    }
    const askOk = sideMatches(book, Side.Sell, ob, k, compare);
    const bidOk = sideMatches(book, Side.Buy, ob, k, compare);
    if (askOk && bidOk) {
      matched++;
      continue;
    }
    resynced++;
    if (firstMismatchRow === null) firstMismatchRow = ob.line[k]!;
    if (!askOk) resyncSide(book, Side.Sell, ob, k, compare);
    if (!bidOk) resyncSide(book, Side.Buy, ob, k, compare);
  }
  const counts: LobsterReplayCounts = { rows: n > 0 ? n - 1 : 0, matched, resynced, unchecked, firstMismatchRow };
  if (orders !== null) {
    stats.liveAtEnd = orders.count;
    counts.orders = stats;
  }
  return counts;
}

function label(src: Uint8Array | string, fallback: string): string {
  return typeof src === 'string' ? src : fallback;
}

/** Reads, parses, seeds, replays and compares; see LobsterReplayOptions. */
export function replayLobster(opts: LobsterReplayOptions): LobsterReplayResult {
  const now = opts.now;
  const dl = opts.deadLetters ?? new DeadLetters();
  const strict = opts.strict === true;
  const msgFile = label(opts.messages, '<messages>');
  const obFile = label(opts.orderbook, '<orderbook>');
  const msgBytes = readInput(opts.messages, 'message');
  const obBytes = readInput(opts.orderbook, 'order book');
  const seedBytes = opts.seedBook === undefined ? null : readInput(opts.seedBook, 'seed book');

  const t0 = now ? now() : 0;
  const msgs = parseLobsterMessages(msgBytes, { file: msgFile, strict, deadLetters: dl });
  const ob = parseLobsterOrderbook(obBytes, { file: obFile, strict, deadLetters: dl, levels: opts.levels });
  const seed =
    seedBytes === null
      ? ob
      : parseLobsterOrderbook(seedBytes, { file: label(opts.seedBook!, '<seed book>'), strict, deadLetters: dl });
  const t1 = now ? now() : 0;

  if (msgs.count === 0) throw inputError(msgFile, null, 'no messages');
  if (ob.rows !== msgs.count) {
    throw inputError(obFile, null, `has ${ob.rows} rows but the message file has ${msgs.count}; row k must be the book after message k`);
  }
  if (seed.rows === 0 || seed.valid[0] === 0) throw inputError(seed.file, 1, 'the first row, which seeds the book, is missing or malformed');
  const compare = opts.compare ?? ob.levels;
  if (!Number.isInteger(compare) || compare < 0 || compare > ob.levels) {
    throw new UserError(`--compare must be an integer from 0 to ${ob.levels} (the order book file's levels), got ${compare}`);
  }

  const book = new LevelBook();
  seedFromBookRow(book, seed, 0);
  let out: ByteSink | null = null;
  let onRow: ((b: LevelBook, k: number) => void) | undefined;
  if (opts.bookOut !== undefined) {
    const sink = new ByteSink(Math.max(1 << 16, msgs.count * ob.levels * 24));
    appendBookRow(sink, book, ob.levels);
    const levels = ob.levels;
    onRow = (b) => appendBookRow(sink, b, levels);
    out = sink;
  }
  const counts = replayParsed(book, msgs, ob, compare, onRow, opts.trackOrders === true ? new OrderIndex() : null);
  const t2 = now ? now() : 0;

  if (out !== null && opts.bookOut !== undefined) {
    try {
      writeFileSync(opts.bookOut, out.toBuffer());
    } catch (e) {
      throw new UserError(`${opts.bookOut}: cannot write the book-out file (${(e as Error).message})`);
    }
  }
  const totalMs = t2 - t0;
  return {
    ...counts,
    messagesPerSecond: now && totalMs > 0 ? Math.round(msgs.count / (totalMs / 1000)) : 0,
    parseMs: t1 - t0,
    replayMs: t2 - t1,
    levels: ob.levels,
    compare,
    deadLetterCount: dl.count,
    deadLetters: dl.entries,
  };
}
