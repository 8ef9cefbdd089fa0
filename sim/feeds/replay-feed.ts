import { CommandRecord, CommandType } from '../../engine/command.js';
import { decimalScale, parseScaled } from '../../engine/decimal.js';
import { LevelBook } from '../../engine/level-book.js';
import { MarketTradeKind, SIDE_BOTH, SIDE_UNKNOWN } from '../../engine/replay-venue.js';
import { Side } from '../../engine/types.js';
import { inputError } from '../errors.js';
import { DeadLetters } from '../replay/dead-letter.js';
import { LOBSTER_EMPTY_ASK, LOBSTER_EMPTY_BID, LobsterType, parseLobsterMessages, parseLobsterOrderbook, readInput, type LobsterMessages } from '../replay/lobster.js';
import { parseTardisL2, parseTardisTrades, type TardisL2, type TardisTrades } from '../replay/tardis.js';
import type { FeedSource } from './feed.js';

/**
 * Recorded market data as a feed of Hist* commands for one instrument's
 * ReplayVenue. The same parameters build the same commands on any thread, so a
 * replay feed runs in the feed worker like the synthetic one. Each source is
 * parsed twice per run: once on the main thread by prepareReplayFeed (dead
 * letters for the summary, --strict errors before anything runs) and once where
 * the feed runs; parsing is the cheap part (see docs/replay.md).
 */

export interface LobsterFeedParams {
  instrument: number;
  messages: string;
  orderbook: string;
  levels: number;
  strict: boolean;
  tickSize: string;
  lotSize: string;
}

export interface TardisFeedParams {
  instrument: number;
  l2: string;
  trades: string | null;
  strict: boolean;
  tickSize: string;
  lotSize: string;
  /** Microseconds since the epoch at midnight (UTC) of the scenario's session date. */
  dayStartUs: number;
}

const DAY_US = 86_400_000_000;

/** LOBSTER price units (dollars x 10000) and share counts to ticks and lots, exactly: value x num / den. */
interface Ratio {
  num: number;
  den: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** value / unit where value has `valueScale` decimals and unit is a decimal string: a reduced ratio. */
function ratioTo(unit: string, valueScale: number): Ratio {
  const us = decimalScale(unit);
  let num = 10 ** us;
  let den = parseScaled(unit, us) * 10 ** valueScale;
  const g = gcd(num, den);
  num /= g;
  den /= g;
  return { num, den };
}

/** NaN when the value is not a whole number of units. */
function convert(v: number, r: Ratio): number {
  const x = v * r.num;
  if (!Number.isSafeInteger(x) || x % r.den !== 0) return Number.NaN;
  return x / r.den;
}

/** A LOBSTER day mapped to the instrument: row k usable when ok[k] = 1. */
export interface LobsterMapped {
  msgs: LobsterMessages;
  ok: Uint8Array;
  ticks: Float64Array;
  lots: Float64Array;
  /** The seed book (order book row 1), in file order: ask 1, bid 1, ask 2, ... */
  seedSide: Uint8Array;
  seedTicks: Float64Array;
  seedLots: Float64Array;
}

export function mapLobster(p: LobsterFeedParams, dl: DeadLetters): LobsterMapped {
  const msgBytes = readInput(p.messages, 'LOBSTER message');
  const obBytes = readInput(p.orderbook, 'LOBSTER order book');
  const msgs = parseLobsterMessages(msgBytes, { file: p.messages, strict: p.strict, deadLetters: dl });
  // Only row 1 seeds the book: parse just that line.
  let end = obBytes.indexOf(10);
  if (end < 0) end = obBytes.length;
  const ob = parseLobsterOrderbook(obBytes.subarray(0, end), { file: p.orderbook, strict: p.strict, deadLetters: dl, levels: p.levels });
  if (msgs.count === 0) throw inputError(p.messages, null, 'no messages');
  if (ob.rows === 0 || ob.valid[0] === 0) throw inputError(p.orderbook, 1, 'the first row, which seeds the book, is missing or malformed');
  const px = ratioTo(p.tickSize, 4);
  const sz = ratioTo(p.lotSize, 0);
  const bad = (file: string, line: number, reason: string, raw: string): void => {
    if (p.strict) throw inputError(file, line, reason);
    dl.add(file, line, reason, raw);
  };
  const n = msgs.count;
  const ok = new Uint8Array(n);
  const ticks = new Float64Array(n);
  const lots = new Float64Array(n);
  let lastNs = 0;
  for (let k = 0; k < n; k++) {
    const type = msgs.type[k]!;
    if (type === LobsterType.Invalid) continue;
    const t = msgs.timeNs[k]!;
    const line = msgs.line[k]!;
    const raw = (): string => lineText(msgBytes, line);
    if (t < lastNs) {
      bad(p.messages, line, 'time goes back', raw());
      continue;
    }
    if (type === LobsterType.Halt) {
      lastNs = t;
      continue; // no book change and no print: nothing to replay
    }
    const tk = convert(msgs.price[k]!, px);
    const lt = convert(msgs.size[k]!, sz);
    if (Number.isNaN(tk) || tk <= 0) {
      bad(p.messages, line, `price ${msgs.price[k]} is not a whole number of ticks of ${p.tickSize}`, raw());
      continue;
    }
    if (Number.isNaN(lt)) {
      bad(p.messages, line, `size ${msgs.size[k]} is not a whole number of lots of ${p.lotSize}`, raw());
      continue;
    }
    lastNs = t;
    ok[k] = 1;
    ticks[k] = tk;
    lots[k] = lt;
  }
  const seedSide: number[] = [];
  const seedTicks: number[] = [];
  const seedLots: number[] = [];
  for (let j = 0; j < ob.levels; j++) {
    const o = j * 4;
    for (const [side, pi, empty] of [
      [Side.Sell, o, LOBSTER_EMPTY_ASK],
      [Side.Buy, o + 2, LOBSTER_EMPTY_BID],
    ] as const) {
      const price = ob.data[pi]!;
      const size = ob.data[pi + 1]!;
      if (price === empty || size <= 0) continue;
      const tk = convert(price, px);
      const lt = convert(size, sz);
      if (Number.isNaN(tk) || Number.isNaN(lt) || tk <= 0) {
        bad(p.orderbook, 1, `level ${j + 1} ${side === Side.Sell ? 'ask' : 'bid'} ${price} x ${size} is not whole ticks of ${p.tickSize} and lots of ${p.lotSize}`, lineText(obBytes, 1));
        continue;
      }
      seedSide.push(side);
      seedTicks.push(tk);
      seedLots.push(lt);
    }
  }
  return { msgs, ok, ticks, lots, seedSide: Uint8Array.from(seedSide), seedTicks: Float64Array.from(seedTicks), seedLots: Float64Array.from(seedLots) };
}

/**
 * The text of a 1-based line, for dead letters. Lines are asked for in file
 * order, so the scan resumes where the last one ended: linear in the file
 * however many rows are bad.
 */
let ltBuf: Uint8Array | null = null;
let ltLine = 1;
let ltStart = 0;
function lineText(b: Uint8Array, line: number): string {
  if (b !== ltBuf || line < ltLine) {
    ltBuf = b;
    ltLine = 1;
    ltStart = 0;
  }
  let start = ltStart;
  for (let l = ltLine; l < line; l++) {
    const nl = b.indexOf(10, start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  ltLine = line;
  ltStart = start;
  let end = b.indexOf(10, start);
  if (end < 0) end = b.length;
  if (end > start && b[end - 1] === 13) end--;
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/**
 * Order book row 1 is the book after message 1, so at message 1's time the book
 * is cleared and set from it (message 1 itself only prints, if it traded), then
 * messages 2.. follow by price and size, as in exsim lobster.
 */
export function lobsterFeed(p: LobsterFeedParams): FeedSource {
  const m = mapLobster(p, new DeadLetters(0));
  const { msgs, ok, ticks, lots } = m;
  const inst = p.instrument;
  const t0 = msgs.timeNs[0]!;
  let seedAt = -1; // -1: the clear comes next
  let k = 1;
  let firstPrinted = false;
  return {
    next(out: CommandRecord): boolean {
      out.clear();
      out.instrument = inst;
      if (seedAt < m.seedSide.length) {
        out.tsNs = t0;
        if (seedAt === -1) {
          out.type = CommandType.HistClear;
          out.side = SIDE_BOTH;
        } else {
          out.type = CommandType.HistAdd;
          out.side = m.seedSide[seedAt]!;
          out.priceTicks = m.seedTicks[seedAt]!;
          out.sizeLots = m.seedLots[seedAt]!;
        }
        seedAt++;
        return true;
      }
      if (!firstPrinted) {
        firstPrinted = true;
        const type = msgs.type[0]!;
        if (ok[0] === 1 && type >= LobsterType.ExecuteVisible && type <= LobsterType.Cross) {
          // The seed already shows this execution: it prints without moving any size.
          fill(out, 0, CommandType.HistTrade);
          out.flags = type === LobsterType.ExecuteVisible ? MarketTradeKind.Visible : type === LobsterType.ExecuteHidden ? MarketTradeKind.Hidden : MarketTradeKind.Cross;
          return true;
        }
      }
      while (k < msgs.count) {
        const i = k++;
        if (ok[i] === 0) continue;
        switch (msgs.type[i]!) {
          case LobsterType.Add:
            fill(out, i, CommandType.HistAdd);
            return true;
          case LobsterType.PartialCancel:
          case LobsterType.Delete:
            fill(out, i, CommandType.HistReduce);
            return true;
          case LobsterType.ExecuteVisible:
            fill(out, i, CommandType.HistExecute);
            return true;
          case LobsterType.ExecuteHidden:
            fill(out, i, CommandType.HistTrade);
            out.flags = MarketTradeKind.Hidden;
            return true;
          case LobsterType.Cross:
            fill(out, i, CommandType.HistTrade);
            out.flags = MarketTradeKind.Cross;
            return true;
          default:
            continue;
        }
      }
      return false;
    },
  };

  function fill(out: CommandRecord, i: number, type: CommandType): void {
    out.type = type;
    out.tsNs = msgs.timeNs[i]!;
    out.side = msgs.direction[i] === 1 ? Side.Buy : Side.Sell;
    out.priceTicks = ticks[i]!;
    out.sizeLots = lots[i]!;
    out.clOrdId = msgs.orderId[i]!;
  }
}

/** Tardis files mapped to the session day: rows with ok = 0 are dead letters. */
export interface TardisMapped {
  l2: TardisL2;
  l2Ns: Float64Array;
  l2Ok: Uint8Array;
  trades: TardisTrades | null;
  tradeNs: Float64Array;
  tradeOk: Uint8Array;
}

/**
 * Virtual time is the local (receipt) timestamp: it is in file order, where the
 * exchange timestamps of the first updates run slightly before the snapshot's.
 */
export function mapTardis(p: TardisFeedParams, dl: DeadLetters): TardisMapped {
  const o = { tickSize: p.tickSize, lotSize: p.lotSize, strict: p.strict, deadLetters: dl };
  const l2Bytes = readInput(p.l2, 'Tardis incremental_book_L2');
  const l2 = parseTardisL2(l2Bytes, { ...o, file: p.l2 });
  const trBytes = p.trades === null ? null : readInput(p.trades, 'Tardis trades');
  const trades = trBytes === null ? null : parseTardisTrades(trBytes, { ...o, file: p.trades! });
  const toNs = (file: string, bytes: Uint8Array, ts: Float64Array, line: Int32Array, n: number): { ns: Float64Array; ok: Uint8Array } => {
    const ns = new Float64Array(n);
    const ok = new Uint8Array(n);
    let last = 0;
    for (let k = 0; k < n; k++) {
      const us = ts[k]! - p.dayStartUs;
      let why = '';
      if (us < 0 || us >= DAY_US) why = 'local_timestamp is not on the session date';
      else if (us * 1000 < last) why = 'local_timestamp goes back';
      if (why !== '') {
        if (p.strict) throw inputError(file, line[k]!, why);
        dl.add(file, line[k]!, why, lineText(bytes, line[k]!));
        continue;
      }
      last = us * 1000;
      ns[k] = last;
      ok[k] = 1;
    }
    return { ns, ok };
  };
  const a = toNs(p.l2, l2Bytes, l2.localTimestampUs, l2.line, l2.count);
  const b = trades === null ? { ns: new Float64Array(0), ok: new Uint8Array(0) } : toNs(p.trades!, trBytes!, trades.localTimestampUs, trades.line, trades.count);
  return { l2, l2Ns: a.ns, l2Ok: a.ok, trades, tradeNs: b.ns, tradeOk: b.ok };
}

/**
 * L2 rows set absolute level sizes; the venue takes changes. A level book of
 * the file's own sizes turns each row into the difference (add or reduce), so
 * what own orders took stays taken. A snapshot (a run of is_snapshot rows)
 * clears the book first. Trades print; the L2 rows carry their size change.
 * Rows and trades merge by time, L2 first at equal times.
 */
export function tardisFeed(p: TardisFeedParams): FeedSource {
  const m = mapTardis(p, new DeadLetters(0));
  const { l2, trades } = m;
  const raw = new LevelBook();
  const inst = p.instrument;
  let i = 0;
  let j = 0;
  let inSnapshot = false;
  let snapshotTs = -1;
  let pendingRow = -1; // a snapshot row whose level comes after the clear
  const nTrades = trades === null ? 0 : trades.count;
  return {
    next(out: CommandRecord): boolean {
      for (;;) {
        out.clear();
        out.instrument = inst;
        if (pendingRow >= 0) {
          const k = pendingRow;
          pendingRow = -1;
          if (setLevel(out, k)) return true;
          continue;
        }
        while (i < l2.count && m.l2Ok[i] === 0) i++;
        while (j < nTrades && m.tradeOk[j] === 0) j++;
        const haveL2 = i < l2.count;
        const haveTr = j < nTrades;
        if (!haveL2 && !haveTr) return false;
        if (haveL2 && (!haveTr || m.l2Ns[i]! <= m.tradeNs[j]!)) {
          const k = i++;
          if (l2.isSnapshot[k] === 1) {
            const ts = l2.timestampUs[k]!;
            if (!inSnapshot || ts !== snapshotTs) {
              inSnapshot = true;
              snapshotTs = ts;
              raw.clear();
              out.type = CommandType.HistClear;
              out.tsNs = m.l2Ns[k]!;
              out.side = SIDE_BOTH;
              pendingRow = k;
              return true;
            }
          } else {
            inSnapshot = false;
          }
          if (setLevel(out, k)) return true;
          continue;
        }
        const k = j++;
        const tr = trades!;
        out.type = CommandType.HistTrade;
        out.tsNs = m.tradeNs[k]!;
        const aggressor = tr.side[k]!;
        out.side = aggressor === 0 ? Side.Sell : aggressor === 1 ? Side.Buy : SIDE_UNKNOWN;
        out.priceTicks = tr.priceTicks[k]!;
        out.sizeLots = tr.sizeLots[k]!;
        out.flags = MarketTradeKind.Print;
        out.clOrdId = tr.id[k]!;
        return true;
      }
    },
  };

  /** Fills `out` with the change row k makes; false if it changes nothing. */
  function setLevel(out: CommandRecord, k: number): boolean {
    const side = l2.side[k] as Side;
    const price = l2.priceTicks[k]!;
    const size = l2.sizeLots[k]!;
    const before = raw.sizeAt(side, price);
    raw.set(side, price, size);
    if (size === before) return false;
    out.type = size > before ? CommandType.HistAdd : CommandType.HistReduce;
    out.tsNs = m.l2Ns[k]!;
    out.side = side;
    out.priceTicks = price;
    out.sizeLots = size > before ? size - before : before - size;
    return true;
  }
}

/** What the main thread learns from a replay feed before the run: its size and its dead letters. */
export interface ReplayFeedReport {
  type: 'lobster' | 'tardis';
  instrument: number;
  files: string[];
  rows: number;
  deadLetters: DeadLetters;
}

export function prepareLobsterFeed(p: LobsterFeedParams): ReplayFeedReport {
  const dl = new DeadLetters();
  const m = mapLobster(p, dl);
  return { type: 'lobster', instrument: p.instrument, files: [p.messages, p.orderbook], rows: m.msgs.count, deadLetters: dl };
}

export function prepareTardisFeed(p: TardisFeedParams): ReplayFeedReport {
  const dl = new DeadLetters();
  const m = mapTardis(p, dl);
  const files = p.trades === null ? [p.l2] : [p.l2, p.trades];
  return { type: 'tardis', instrument: p.instrument, files, rows: m.l2.count + (m.trades?.count ?? 0), deadLetters: dl };
}
