import { mkdirSync, writeFileSync, renameSync, rmSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './errors.js';
import { InvariantCheckComponent } from './invariants.js';
import { CommandRecord, commandToRecord } from '../engine/command.js';
import { EventRecord, EventType, EVENT_TYPE_NAME, type EventSink } from '../engine/event.js';
import { Exchange, type OrderHooks } from '../engine/exchange.js';
import { fromUnits } from '../engine/decimal.js';
import { CANCEL_REASON_NAME, NO_PRICE, REJECT_NAME, RejectReason, CancelReason } from '../engine/types.js';
import { InvariantError } from '../engine/assert.js';
import type { QueueModel } from '../engine/replay-venue.js';
import { TimerQueue } from './clock.js';
import type { FeedSource, FeedSpec } from './feeds/feed.js';
import { inlineFeed } from './feeds/feed.js';
import { workerFeed } from './feeds/worker-feed.js';
import { backOfficeComponent } from './back-office-component.js';
import type { Scenario } from './scenario.js';
import { paymentsComponent } from './payments-component.js';
import { openOutput, type OutputResult } from './sinks/output.js';
import { LobsterRecordComponent, type LobsterRecordOptions } from './replay/lobster-record.js';
import { DEAD_LETTER_FILE_PREFIX, ReplayReportComponent } from './replay/replay-report.js';
import { strategyComponents } from './strategy/backtest.js';
import { BACKTEST_FILES } from './strategy/outputs.js';

/**
 * The run loop: the virtual clock is the merge point of three inputs —
 * timers (session open/close), scenario actions and feeds. At equal times,
 * timers go first, then actions, then feeds, so the order never depends on
 * which thread produced what.
 */

export type Threading = 'worker' | 'inline';

export interface RunOptions {
  scenario: Scenario;
  outDir: string;
  feedThread?: Threading;
  outputThread?: Threading;
  audit?: boolean;
  /**
   * The audit log's journal during the run: 'off' (default: fastest, nothing to
   * recover, since the run deletes partial files) or 'wal' (readers may open the
   * log while the run writes it; ~0.3-0.6 s more a 1M-order day). Either way the
   * finished file has a normal rollback journal.
   */
  auditJournal?: 'off' | 'wal';
  /** Wall clock for timings and progress, injected by the caller (the core never reads it). */
  wallMs?: () => number;
  /** Extra participants (see RunComponent); built-in ones come from the scenario. */
  components?: RunComponent[];
  /** Record the run's order-book market data as LOBSTER files (sim/replay/lobster-record.ts). */
  recordLobster?: LobsterRecordOptions;
  /** Called now and then with the virtual time reached and the events so far. */
  progress?: (virtualNs: number, events: number) => void;
  /**
   * Run-time invariant mode (sim/invariants.ts): every this many inputs (commands, actions,
   * timers) and at the end, the books' full checkInvariants(); throughout, quantity
   * conservation and one terminal state per order from the event stream. A broken
   * invariant fails the run with an InvariantError naming it. 0 or absent: off.
   * Output bytes are the same either way.
   */
  checkInvariantsEvery?: number;
}

export interface InstrumentSummary {
  symbol: string;
  trades: number;
  volume: string;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string | null;
  bestBid: string | null;
  bestBidSize: string;
  bestAsk: string | null;
  bestAskSize: string;
  restingOrders: number;
}

/** summary.json: a pure function of the event stream (no wall time), so it can be a golden file. */
export interface Summary {
  scenario: string;
  seed: number;
  events: number;
  eventsSha256: string;
  eventCounts: Record<string, number>;
  rejects: Record<string, number>;
  cancels: Record<string, number>;
  instruments: InstrumentSummary[];
  /** What components added (accounts, payments, strategies), by component. */
  extra?: Record<string, unknown>;
}

export interface RunTimings {
  wallMs: number;
  /** Time in feed pulls (sampled: one pull in FEED_SAMPLE is timed). */
  feedWaitMs: number;
  matchingMs: number;
  outputDrainMs: number;
  commands: number;
  eventsPerSecond: number;
}

export interface RunResult {
  summary: Summary;
  output: OutputResult;
  timings: RunTimings | null;
}

/**
 * Something that joins a run beside the exchange (back office jobs, payments,
 * strategies, recorders): it schedules its own timers on the virtual clock,
 * sees every event, and may apply commands from its timers.
 *
 * onEvent runs inside the exchange's emit: it must not call the exchange back
 * (one writer of state); to act on an event, schedule a timer, even at the same time.
 */
export interface RunComponent {
  readonly name: string;
  /** Stages the exchange runs around its book (pre-trade risk, clearing); at most one component has them. */
  readonly orderHooks?: OrderHooks;
  start?(ctx: RunContext): void;
  onEvent?(e: EventRecord): void;
  /** After the loop and before the summary: write files into runDir, add to the summary's `extra`. */
  finish?(ctx: RunContext, runDir: string, extra: Record<string, unknown>): void | Promise<void>;
}

export interface RunContext {
  readonly scenario: Scenario;
  readonly exchange: Exchange;
  /** Run `fire` at virtual time `timeNs` (not before the current time); equal times fire in scheduling order. */
  schedule(timeNs: number, fire: (timeNs: number) => void): number;
  cancelTimer(id: number): boolean;
  /** Virtual time of the input being processed. */
  nowNs(): number;
  /** Apply a command now (from a timer callback only). Counts toward the run's commands. */
  apply(c: CommandRecord): void;
}

/** Counts events on their way to the real sink: the summary is built from what was emitted. */
class CountingSink implements EventSink {
  /** Indexed by EventType; the reserved ranges go up to 79. */
  readonly byType = new Float64Array(128);
  readonly rejects = new Float64Array(64);
  readonly cancels = new Float64Array(16);
  events = 0;
  private listeners: RunComponent[] = [];
  constructor(private readonly next: EventSink) {}
  listen(components: readonly RunComponent[]): void {
    this.listeners = components.filter((c) => c.onEvent !== undefined);
  }
  emit(e: EventRecord): void {
    this.events++;
    this.byType[e.type]!++;
    if (e.type === EventType.OrderRejected || e.type === EventType.CancelRejected || e.type === EventType.ModifyRejected) this.rejects[e.reason]!++;
    else if (e.type === EventType.OrderCancelled) this.cancels[e.reason]!++;
    this.next.emit(e);
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!.onEvent!(e);
  }
}

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const sc = opts.scenario;
  checkOutDir(opts.outDir);
  const now = opts.wallMs;
  const t0 = now?.() ?? 0;
  // Built before anything is written: a replay feed's --strict error or a strategy that
  // fails to load stops the run with nothing on disk.
  const checkEvery = opts.checkInvariantsEvery ?? 0;
  if (!Number.isSafeInteger(checkEvery) || checkEvery < 0) throw new UserError(`check invariants every: expected a whole number of inputs >= 0, got ${checkEvery}`);
  const components = [...(await builtInComponents(sc, opts)), ...(opts.components ?? [])];
  if (checkEvery > 0) components.push(new InvariantCheckComponent());
  const hooked = components.filter((c) => c.orderHooks !== undefined);
  if (hooked.length > 1) throw new InvariantError(`only one component may hook orders; ${hooked.map((c) => c.name).join(', ')} do`);
  const tmpDir = partialDirOf(opts.outDir);
  try {
    rmSync(tmpDir, { recursive: true, force: true });
    // The last level without `recursive`: Node's recursive mkdirSync spins forever where
    // mkdir answers ENOENT under an existing parent (e.g. /proc/x); plain mkdir reports it.
    if (!existsSync(dirname(tmpDir))) mkdirSync(dirname(tmpDir), { recursive: true });
    mkdirSync(tmpDir);
  } catch (err) {
    throw new UserError(`${opts.outDir}: cannot write the output directory here (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }

  let output: ReturnType<typeof openOutput>;
  try {
    output = openOutput({
      outDir: tmpDir,
      instruments: sc.instruments,
      accountNames: sc.accounts.map((a) => a.name),
      ...(sc.backOffice !== null ? { moneyExponents: sc.backOffice.moneyExponents } : {}),
      scenario: sc.name,
      seed: sc.seed,
      audit: opts.audit ?? true,
      auditJournal: opts.auditJournal ?? 'off',
      thread: opts.outputThread ?? 'worker',
    });
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
  const counting = new CountingSink(output);
  const exchange = new Exchange(
    {
      instruments: sc.instruments,
      accounts: sc.accounts,
      quotes: sc.marketData.quotes,
      levels: sc.marketData.levels,
      replay: replayConfig(sc),
      ...(hooked.length === 1 ? { orderHooks: hooked[0]!.orderHooks! } : {}),
    },
    counting,
  );

  let feed: (FeedSource & { close?: () => Promise<void> }) | null = null;
  let feedWaitMs = 0;
  let pulls = 0;
  let commands = 0;
  try {
    const specs = sc.feeds.map((f): FeedSpec => {
      if (f.kind !== 'synthetic') {
        const { kind, queueModel: _q, deadLetter: _d, path: _p, ...params } = f;
        return kind === 'lobster' ? { kind, params: params as Extract<FeedSpec, { kind: 'lobster' }>['params'] } : { kind, params: params as Extract<FeedSpec, { kind: 'tardis' }>['params'] };
      }
      const { kind, purpose, ...params } = f;
      // Each feed draws from its own named stream of the scenario seed, so adding a
      // feed never shifts another feed's numbers.
      return { kind, params, seed: `${sc.seed}/${purpose}` };
    });
    feed = specs.length === 0 ? null : (opts.feedThread ?? 'worker') === 'worker' ? workerFeed(specs) : inlineFeed(specs);

    const timers = new TimerQueue<(timeNs: number) => void>();
    let nowNs = 0;
    const ctx: RunContext = {
      scenario: sc,
      exchange,
      schedule(timeNs, fire) {
        if (!Number.isSafeInteger(timeNs) || timeNs < nowNs) throw new InvariantError(`timer at ${timeNs} is before the current virtual time ${nowNs}`);
        return timers.schedule(timeNs, fire);
      },
      cancelTimer: (id) => timers.cancel(id),
      nowNs: () => nowNs,
      apply(c) {
        exchange.apply(c);
        commands++;
      },
    };
    for (const s of sc.sessions) {
      ctx.schedule(s.openNs, (t) => exchange.openSession(t));
      ctx.schedule(s.closeNs, (t) => exchange.closeSession(t));
      const every = sc.marketData.snapshotEveryNs;
      if (every > 0 && sc.marketData.levels > 0) {
        // One self-rescheduling timer per session: snapshots strictly inside it.
        const snap = (t: number) => {
          for (let i = 0; i < sc.instruments.length; i++) exchange.publishSnapshot(i, t);
          if (t + every < s.closeNs) ctx.schedule(t + every, snap);
        };
        if (s.openNs + every < s.closeNs) ctx.schedule(s.openNs + every, snap);
      }
    }
    counting.listen(components);
    for (const c of components) c.start?.(ctx);

    const fcmd = new CommandRecord();
    const acmd = new CommandRecord();
    let haveFeed = feed !== null && pull(feed, fcmd);
    let ai = 0;
    const actions = sc.actions;

    // The loop runs in synchronous slices of SLICE_INPUTS with a turn of the event
    // loop between them (~15 per million inputs), so the CLI's SIGINT/SIGTERM
    // handler can run and remove the partial directory. An await inside the loop
    // itself measured ~30% slower (loop state lives in the async frame). The order
    // of inputs does not depend on the slicing.
    const sliceInputs = checkEvery > 0 ? Math.min(SLICE_INPUTS, checkEvery) : SLICE_INPUTS;
    const slice = (): boolean => {
      for (let k = 0; k < sliceInputs; k++) {
        const tTimer = timers.peekTime();
        const tAct = ai < actions.length ? actions[ai]!.atNs : Infinity;
        const tFeed = haveFeed ? fcmd.tsNs : Infinity;
        if (tTimer === Infinity && tAct === Infinity && tFeed === Infinity) return false;
        if (tTimer <= tAct && tTimer <= tFeed) {
          nowNs = tTimer;
          timers.pop()!(tTimer);
        } else if (tAct <= tFeed) {
          const a = actions[ai++]!;
          nowNs = a.atNs;
          exchange.noteAction(a.atNs, a.index, a.command.account, a.command.clOrdId);
          exchange.apply(commandToRecord({ ...a.command, tsNs: a.atNs }, acmd, a.index));
          commands++;
        } else {
          nowNs = fcmd.tsNs;
          exchange.apply(fcmd);
          commands++;
          haveFeed = pull(feed!, fcmd);
        }
      }
      return true;
    };
    while (slice()) {
      if (checkEvery > 0) checkBooks(exchange, nowNs);
      if (opts.progress) opts.progress(nowNs, counting.events);
      await yieldTurn();
    }
    if (checkEvery > 0) checkBooks(exchange, nowNs);
    const extra: Record<string, unknown> = {};
    for (const c of components) await c.finish?.(ctx, tmpDir, extra);
    await feed?.close?.();
    const tLoop = now?.() ?? 0;
    const out = await output.close();
    const tEnd = now?.() ?? 0;

    const summary = buildSummary(sc, exchange, counting, out);
    if (Object.keys(extra).length > 0) summary.extra = extra;
    writeFileSync(join(tmpDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    writeFileSync(join(tmpDir, 'scenario.json'), JSON.stringify(sc.raw, null, 2) + '\n');
    writeFileSync(join(tmpDir, BOOK_FILE), JSON.stringify(finalBook(sc, exchange), null, 2) + '\n');
    publishRun(tmpDir, opts.outDir);

    const timings: RunTimings | null = now
      ? {
          wallMs: tEnd - t0,
          feedWaitMs,
          matchingMs: tLoop - t0 - feedWaitMs,
          outputDrainMs: tEnd - tLoop,
          commands,
          eventsPerSecond: counting.events / Math.max((tEnd - t0) / 1000, 1e-9),
        }
      : null;
    return { summary, output: out, timings };
  } catch (err) {
    await feed?.close?.().catch(() => {});
    await output.abort().catch(() => {});
    if (existsSync(tmpDir)) rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }

  // Timing every pull cost two clock reads per command (~0.1 s a 1M-command day): after the
  // first EXACT_PULLS, one pull in FEED_SAMPLE is timed and counts for FEED_SAMPLE, an estimate
  // good to a few percent at this count. The first pulls are all timed: they include the wait
  // for a feed worker to start, which, sampled and multiplied, made the feed wait of a short run
  // exceed its wall time (and matching+emit negative).
  function pull(src: FeedSource, into: CommandRecord): boolean {
    const n = ++pulls;
    const sampled = n > EXACT_PULLS;
    if (!now || (sampled && (n & (FEED_SAMPLE - 1)) !== 0)) return src.next(into);
    const a = now();
    const r = src.next(into);
    feedWaitMs += (now() - a) * (sampled ? FEED_SAMPLE : 1);
    return r;
  }
}

/** One feed pull in this many is timed (a power of two). */
const FEED_SAMPLE = 16;
/** Pulls timed one by one before sampling starts (a multiple of FEED_SAMPLE). */
const EXACT_PULLS = 4096;

function checkBooks(exchange: Exchange, nowNs: number): void {
  try {
    exchange.checkInvariants();
  } catch (err) {
    throw new InvariantError(`invariant broken: book consistency (brute-force BBO, order pool, levels) at virtual ns ${nowNs}: ${(err as Error).message}`);
  }
}

/** Inputs (timers, actions, feed commands) between two turns of the event loop. */
const SLICE_INPUTS = 0x10000;

/** Where a run writes before it is published; the CLI removes it when interrupted. */
export function partialDirOf(outDir: string): string {
  return `${outDir}.partial-${process.pid}`;
}

function yieldTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A bad output path is bad input: found before the run starts (not after a long
 * run, at publish time) and reported as one line naming the path.
 */
export function checkOutDir(outDir: string): void {
  if (outDir.length === 0) throw new UserError('output directory: empty path');
  let p = resolve(outDir);
  if (existsSync(p) && !statSync(p).isDirectory()) throw new UserError(`${outDir}: exists and is not a directory`);
  for (;;) {
    const up = dirname(p);
    if (up === p) return;
    p = up;
    if (!existsSync(p)) continue;
    if (!statSync(p).isDirectory()) throw new UserError(`${outDir}: ${p} is not a directory`);
    return;
  }
}

/** Participants the scenario itself asks for (back office, payments, strategies...). */
async function builtInComponents(sc: Scenario, opts: RunOptions): Promise<RunComponent[]> {
  const out: RunComponent[] = [];
  const backOffice = sc.backOffice !== null ? backOfficeComponent(sc) : null;
  if (backOffice !== null) out.push(backOffice);
  // One ledger: payments post to the back office's Clearing when there is one.
  const payments = paymentsComponent(sc, backOffice?.backOffice ?? null);
  if (payments !== null) out.push(payments);
  const replay = new ReplayReportComponent(sc);
  if (replay.active) out.push(replay);
  if (opts.recordLobster) out.push(new LobsterRecordComponent(sc, opts.recordLobster));
  out.push(...(await strategyComponents(sc, backOffice?.backOffice ?? null)));
  return out;
}

/** Instruments with a replay feed get a replay venue with the feed's queue model. */
function replayConfig(sc: Scenario): (QueueModel | null)[] {
  const out: (QueueModel | null)[] = sc.instruments.map(() => null);
  for (const f of sc.feeds) if (f.kind !== 'synthetic') out[f.instrument] = f.queueModel;
  return out;
}

/** The book at the end of the run: L2 (the scenario's depth, at least 10) and L3 (every resting order in queue order). */
export const BOOK_FILE = 'book.json';

function finalBook(sc: Scenario, ex: Exchange): unknown {
  const depth = Math.max(sc.marketData.levels, 10);
  return {
    scenario: sc.name,
    instruments: sc.instruments.map((inst, i) => {
      const px = (t: number) => fromUnits(t, inst.tickSize);
      const qty = (l: number) => fromUnits(l, inst.lotSize);
      const l2 = ex.snapshotL2(i, depth);
      const l3 = ex.snapshotL3(i);
      const level = (l: { priceTicks: number; sizeLots: number; orders: number }) => ({ price: px(l.priceTicks), size: qty(l.sizeLots), orders: l.orders });
      const order = (o: { orderId: number; account: number; priceTicks: number; leavesLots: number }) => ({
        orderId: o.orderId,
        account: sc.accounts[o.account]?.name ?? null,
        price: px(o.priceTicks),
        leaves: qty(o.leavesLots),
      });
      return {
        symbol: inst.symbol,
        mdSeq: l2.mdSeq,
        l2: { bids: l2.bids.map(level), asks: l2.asks.map(level) },
        l3: { bids: l3.bids.map(order), asks: l3.asks.map(order) },
      };
    }),
  };
}

/** What every run writes; components add their own files beside these. */
export const RUN_FILES = ['events.ndjson', 'summary.json', 'scenario.json', 'audit.sqlite', BOOK_FILE, ...BACKTEST_FILES] as const;

/**
 * Only a complete run reaches the output directory: files are written in a
 * sibling temporary directory and moved in at the end, so an aborted run never
 * leaves half-written output looking like a result. Other files in the
 * directory are left alone; a stale file from an earlier run is removed.
 */
function publishRun(tmpDir: string, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const written = new Set(readdirSync(tmpDir));
  // A dead-letter file from an earlier run of this directory would pass for this run's.
  const staleDeadLetters = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.startsWith(DEAD_LETTER_FILE_PREFIX) && f.endsWith('.csv')) : [];
  for (const f of new Set([...RUN_FILES, ...staleDeadLetters, ...written])) {
    const dst = join(outDir, f);
    for (const side of ['-wal', '-shm']) rmSync(dst + side, { force: true });
    if (written.has(f)) renameSync(join(tmpDir, f), dst);
    else rmSync(dst, { recursive: true, force: true });
  }
  rmSync(tmpDir, { recursive: true, force: true });
}

function buildSummary(sc: Scenario, ex: Exchange, c: CountingSink, out: OutputResult): Summary {
  const eventCounts: Record<string, number> = {};
  for (const [k, name] of Object.entries(EVENT_TYPE_NAME)) {
    const n = c.byType[Number(k)]!;
    if (n > 0) eventCounts[name] = n;
  }
  const rejects: Record<string, number> = {};
  for (const [k, name] of Object.entries(REJECT_NAME)) {
    const n = c.rejects[Number(k) as RejectReason]!;
    if (n > 0) rejects[name] = n;
  }
  const cancels: Record<string, number> = {};
  for (const [k, name] of Object.entries(CANCEL_REASON_NAME)) {
    const n = c.cancels[Number(k) as CancelReason]!;
    if (n > 0) cancels[name] = n;
  }
  const instruments = sc.instruments.map((inst, i): InstrumentSummary => {
    const s = ex.instrumentStats(i);
    const px = (t: number) => (t === NO_PRICE ? null : fromUnits(t, inst.tickSize));
    const l2 = ex.snapshotL2(i, 1);
    const bid = l2.bids[0];
    const ask = l2.asks[0];
    return {
      symbol: inst.symbol,
      trades: s.trades,
      volume: fromUnits(s.volumeLots, inst.lotSize),
      open: px(s.openTicks),
      high: px(s.highTicks),
      low: px(s.lowTicks),
      close: px(s.closeTicks),
      bestBid: bid ? px(bid.priceTicks) : null,
      bestBidSize: fromUnits(bid?.sizeLots ?? 0, inst.lotSize),
      bestAsk: ask ? px(ask.priceTicks) : null,
      bestAskSize: fromUnits(ask?.sizeLots ?? 0, inst.lotSize),
      restingOrders: ex.restingCount(i),
    };
  });
  return {
    scenario: sc.name,
    seed: sc.seed,
    events: c.events,
    eventsSha256: out.eventsSha256,
    eventCounts,
    rejects,
    cancels,
    instruments,
  };
}
