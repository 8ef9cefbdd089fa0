/**
 * What pre-trade risk and post-trade clearing cost: the same command stream through the
 * exchange alone, through the exchange with the product's pre-trade risk hooks (RiskHooks,
 * engine/risk-hooks.ts: the class the back office delegates its pre-trade half to, with the
 * market-order book walk and the modify re-check), and through the exchange with the whole
 * back office hooked in (that risk, plus a ledger transfer, fees and portfolio update on every
 * trade, fee events). Risk and the back office are each measured in worker threads of their
 * own (a V8 isolate, so the exchange is compiled having seen one hooks class, as in a real
 * run), one worker after the other. In each, a repetition is a pair run back to back
 * (matching alone, then with the hooks: A, B, A, B, ...) and the ratio is taken within the
 * pair: load on this shared machine comes and goes over seconds, and a ratio of two runs a
 * few hundred ms apart cancels most of it, where a ratio of two separate medians does not.
 * Each mode runs in several isolates (alternating risk, back office, risk, ...) and the
 * figure is the median of all their pairs' ratios: the ratio also moves between isolates
 * (by ~±0.04 for risk: each has its own heap layout, so its own cache conflicts), so one
 * isolate's median is one draw of that, and the pooled median is steadier.
 *
 * The stream is made so that every check risk has does run: accounts carry per-instrument
 * long and short position limits and gross and net exposure limits (tight enough that some
 * orders are refused, loose enough that most pass), cash accounts sell only what they hold,
 * ~6% of commands modify a recent order's price and/or size (re-checked by checkModify), and
 * market orders are reserved at the price their walk of the book ends at.
 *
 * The risk worker also records every call RiskHooks made into Risk in one run and replays
 * them on a fresh Risk with nothing in between (each check must answer as it did): Risk's
 * own compute, far less noisy than the pairs, and what the pairs add beyond it is the
 * exchange's side of the hooks and risk's state fetched again after matching evicted it.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/risk.bench.js [commands] [reps] [isolates]
 *
 * Target (issue 4): with risk at most 1.5 x the time of matching alone.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { BackOffice } from '../engine/back-office.js';
import { BusinessCalendar, parseDate } from '../engine/calendar.js';
import { CommandRecord, CommandType } from '../engine/command.js';
import { EventType, type EventRecord, type EventSink } from '../engine/event.js';
import { Exchange, type OrderHooks } from '../engine/exchange.js';
import { OrderChange, Risk, type InstrumentPositionLimits, type RiskAccountView, type RiskFirmConfig, type RiskLimits } from '../engine/risk.js';
import { RiskHooks } from '../engine/risk-hooks.js';
import type { Instrument } from '../engine/instrument.js';
import { equityTerms } from '../engine/margin.js';
import { type MinorAmount, notionalRule } from '../engine/money.js';
import { OrderType, type RejectReason, Side, StpMode, TimeInForce } from '../engine/types.js';

const SEED = 'exsim-risk-bench-2';
const ACCOUNTS = 16;
const FIRMS = 4;
const MID = 10_000;
const INSTRUMENT: Instrument = { index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: MID, priceBandBps: 0 };
/**
 * The session opens at 09:30, in ns since midnight, as a scenario's day does: timestamps of a
 * trading day are no small integers, so a hot path that passes one to a call V8 does not
 * inline boxes it (a heap number per call), and the allocation bench and its test see that
 * only with times like these.
 */
const OPEN_NS = 34_200_000_000_000;
/** Orders an account keeps working (not cancelled by it) at most. */
const OPEN_MAX = 40;

/**
 * Limits on every account, so that each of risk's checks runs and each can refuse. One lot is
 * ~10,000 minor units (100.00 at the mid); the flow's accounts keep ~250 lots of working
 * orders a side and their positions wander by several hundred lots. Per instrument 800 lots
 * long and short (odd accounts 600); cash accounts can never be short. Gross and net
 * exposure of worst-case position (open orders on a side included) ~750 and ~1,000 lots, or
 * the other way round, or both ~1,000: with one instrument gross and net exposure and the
 * position measure the same lots, so the accounts differ in which limit binds first. Firms
 * (`FIRM`) limit open orders and positions far above what their accounts reach, as a firm's
 * limits usually are: each account's checks stay within its share of them (engine/risk.ts,
 * "Firm limits"). docs/accounts.md (session 18) times firms near their limits. A firm exposure
 * limit would keep the firm's running sums on every event.
 */
function accountLimits(a: number, moneyScale = 1): RiskLimits {
  const k = a % 3;
  return {
    maxOrderLots: 100_000,
    collarBps: 5_000,
    maxOrderNotionalMinor: 1e15,
    maxOpenOrders: 1e7,
    maxOrdersPerSecond: 1e9,
    maxGrossExposureMinor: (k === 1 ? 7_500_000 : 10_000_000) * moneyScale,
    maxNetExposureMinor: (k === 0 ? 7_500_000 : 10_000_000) * moneyScale,
  };
}

/**
 * What a lot is worth, as a multiple of the bench's usual 100.00 (a contract multiplier): the
 * notional, margin and exposure limits and the back office's deposits scale with it, the flow
 * and its decisions do not. At 500,000 a single lot's notional (50,000,000.00) and margin are
 * beyond 2^31 minor units, and so are an order's, a reservation and an exposure: no small
 * integers, so a hot path that passes one to a call V8 does not inline boxes it, which the
 * usual amounts cannot show. A margin account's position (up to 40 billion) times its margin
 * rate is beyond 2^53 too, where a plain multiply-divide would need BigInt. (Until session 15
 * this was 100,000: a lot's own notional, 10,000,000.00, was still a small integer.)
 */
export const LARGE_MONEY = 500_000;
const instrumentLimits = (a: number): readonly InstrumentPositionLimits[] => {
  const lots = a % 2 === 0 ? 800 : 600;
  return [{ instrument: 0, maxLongLots: lots, maxShortLots: lots }];
};
const FIRM: RiskFirmConfig = { limits: { maxOpenOrders: 1e8, maxLongLots: 1e12, maxShortLots: 1e12 } };

interface Stream {
  n: number;
  type: Uint8Array;
  account: Int32Array;
  clOrdId: Float64Array;
  side: Uint8Array;
  orderType: Uint8Array;
  price: Int32Array;
  size: Int32Array;
}

/**
 * ~42% cancels, ~6% modifies (of a random order the account has not cancelled: its price,
 * its size or both), ~47% limits, ~5% markets. An account cancels rather than submits while
 * it has OPEN_MAX orders it has not cancelled, as a trader's working orders stay bounded (the
 * generator does not see fills, so some cancels and modifies find the order already filled).
 * Half the accounts are cash accounts (risk refuses their sells beyond what they hold); the
 * rest are margin accounts.
 */
export function generate(n: number): Stream {
  const rnd = seedrandom(SEED);
  const s: Stream = {
    n,
    type: new Uint8Array(n),
    account: new Int32Array(n),
    clOrdId: new Float64Array(n),
    side: new Uint8Array(n),
    orderType: new Uint8Array(n),
    price: new Int32Array(n),
    size: new Int32Array(n),
  };
  const last = new Float64Array(ACCOUNTS);
  // Per account, its limit orders not cancelled yet, as the generator last set them.
  const wId = new Float64Array(ACCOUNTS * OPEN_MAX);
  const wSide = new Uint8Array(ACCOUNTS * OPEN_MAX);
  const wPx = new Int32Array(ACCOUNTS * OPEN_MAX);
  const wSz = new Int32Array(ACCOUNTS * OPEN_MAX);
  const wN = new Int32Array(ACCOUNTS);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rnd() * ACCOUNTS);
    s.account[i] = a;
    const w = a * OPEN_MAX;
    const r = rnd();
    if (wN[a]! > 0 && (r < 0.42 || (r >= 0.48 && wN[a] === OPEN_MAX))) {
      const k = w + Math.floor(rnd() * wN[a]!);
      s.type[i] = CommandType.Cancel;
      s.clOrdId[i] = wId[k]!;
      const e = w + --wN[a]!;
      wId[k] = wId[e]!;
      wSide[k] = wSide[e]!;
      wPx[k] = wPx[e]!;
      wSz[k] = wSz[e]!;
      continue;
    }
    if (r >= 0.42 && r < 0.48 && wN[a]! > 0) {
      const k = w + Math.floor(rnd() * wN[a]!);
      s.type[i] = CommandType.Modify;
      s.clOrdId[i] = wId[k]!;
      s.side[i] = wSide[k]!;
      const what = rnd();
      let px = wPx[k]!;
      let sz = wSz[k]!;
      // A price move of 1-3 ticks either way (towards the market it may cross and trade).
      if (what < 0.7) px += (1 + Math.floor(rnd() * 3)) * (rnd() < 0.5 ? -1 : 1);
      if (what >= 0.4) sz = 1 + Math.floor(rnd() * 30);
      s.price[i] = wPx[k] = px;
      s.size[i] = wSz[k] = sz;
      continue;
    }
    s.type[i] = CommandType.Submit;
    s.clOrdId[i] = ++last[a]!;
    const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
    s.side[i] = side;
    const market = r > 0.95;
    s.orderType[i] = market ? OrderType.Market : OrderType.Limit;
    const off = Math.floor(rnd() * rnd() * 40) - 2;
    s.price[i] = market ? 0 : side === Side.Buy ? MID - off : MID + off;
    s.size[i] = 1 + Math.floor(rnd() * 20);
    if (!market) {
      const k = w + wN[a]!++;
      wId[k] = s.clOrdId[i]!;
      wSide[k] = side;
      wPx[k] = s.price[i]!;
      wSz[k] = s.size[i]!;
    }
  }
  return s;
}

class CountSink implements EventSink {
  n = 0;
  /** Risk's refusals (reason >= KillSwitch) of submits and of modifies. */
  riskRejects = 0;
  riskModifyRejects = 0;
  modified = 0;
  /** Refusals (submits and modifies) by RejectReason. */
  readonly byReason = new Float64Array(64);
  emit(e: EventRecord): void {
    this.n++;
    if (e.type === EventType.OrderRejected || e.type === EventType.ModifyRejected) this.byReason[e.reason]++;
    if (e.type === EventType.OrderRejected && e.reason >= 19) this.riskRejects++;
    else if (e.type === EventType.ModifyRejected && e.reason >= 19) this.riskModifyRejects++;
    else if (e.type === EventType.OrderModified) this.modified++;
  }
}

/** Cash from a plain array. A class, not closures: closures made per run would each be a new call target for risk's view calls. */
class PlainCash implements RiskAccountView {
  constructor(private readonly cash: Float64Array) {}
  buyingPowerCovers(a: number, _useBps: number, amount: Readonly<MinorAmount>): boolean {
    return this.cash[a]! >= amount.minor;
  }
  marginExcessCovers(a: number, amount: Readonly<MinorAmount>): boolean {
    return this.cash[a]! >= amount.minor;
  }
}

/**
 * The product's pre-trade risk hooks alone: the Risk and limits the back office builds (fee
 * reserve at the taker rate, Reg T initial margin of 50%), with cash read from plain arrays,
 * and no ledger, fees or portfolio after the trade.
 */
function riskHooks(risk: Risk): RiskHooks {
  return new RiskHooks(risk, [MID]);
}

/** The Risk the risk mode runs: the class given (a recording subclass), or Risk. */
function benchRisk(cls: typeof Risk = Risk, moneyScale = 1): Risk {
  return new cls(
    {
      instruments: [{ num: moneyScale, den: 1, referencePriceTicks: MID, feeReserveCentiBps: 30, initialPerLotMinor: (p) => Math.ceil((p * moneyScale) / 2) }],
      accounts: Array.from({ length: ACCOUNTS }, (_, a) => ({
        firm: a % FIRMS,
        type: a < ACCOUNTS / 2 ? ('cash' as const) : ('margin' as const),
        limits: accountLimits(a, moneyScale),
        instrumentLimits: instrumentLimits(a),
      })),
      firms: Array.from({ length: FIRMS }, () => FIRM),
    },
    new PlainCash(new Float64Array(ACCOUNTS).fill(1e13)),
  );
}

/**
 * Each back-office account's deposit: 1e13 minor units covers a run's cash buys (a cash account
 * spends what it buys at once, and what it sells arrives T+1, too late to buy with) with lots
 * worth up to 100,000 times the usual; beyond that it grows with the lot, so that the decisions
 * stay those of the usual amounts.
 */
const depositMinor = (moneyScale: number): number => 1e13 * Math.max(1, moneyScale / 100_000);

function backOffice(moneyScale: number): BackOffice {
  const r = notionalRule('0.01', '1', 2, String(moneyScale));
  return new BackOffice({
    currencies: [{ code: 'USD', minorExponent: 2 }],
    instruments: [{ symbol: 'ACME', currency: 0, num: r.num, den: r.den, isFuture: false, makerBps: -0.2, takerBps: 0.3, referencePriceTicks: MID, margin: equityTerms(), markTo: 'last' }],
    accounts: Array.from({ length: ACCOUNTS }, (_, a) => ({
      name: `a${a}`,
      currency: 0,
      firm: a % FIRMS,
      type: a < ACCOUNTS / 2 ? ('cash' as const) : ('margin' as const),
      depositMinor: depositMinor(moneyScale),
      limits: accountLimits(a, moneyScale),
      instrumentLimits: instrumentLimits(a),
    })),
    firms: Array.from({ length: FIRMS }, () => FIRM),
    calendar: new BusinessCalendar([]),
    scenarioDay: parseDate('2026-01-05'),
    settlementLagDays: 1,
  });
}

export type BenchMode = 'matching' | 'risk' | 'back-office';

/** Wall time, and the process's CPU time (user + system) over the same span: on a shared machine the CPU time does not grow while the process waits for a core. */
export function runOnce(s: Stream, mode: BenchMode, risk?: Risk, moneyScale = 1): { ms: number; cpuMs: number; events: number; riskRejects: number; riskModifyRejects: number; modified: number; byReason: Float64Array } {
  const sink = new CountSink();
  const bo = mode === 'back-office' ? backOffice(moneyScale) : null;
  const rh = mode === 'risk' ? riskHooks(risk ?? benchRisk(Risk, moneyScale)) : null;
  const hooks: OrderHooks | null = rh ?? bo;
  const ex = new Exchange(
    {
      instruments: [INSTRUMENT],
      accounts: Array.from({ length: ACCOUNTS }, (_, a) => ({ name: `a${a}`, stp: StpMode.None })),
      quotes: true,
      levels: 0,
      ...(hooks !== null ? { orderHooks: hooks } : {}),
    },
    sink,
  );
  if (bo !== null) {
    bo.attach(ex);
    bo.fundAccounts(0);
  }
  if (rh !== null) rh.attach(ex);
  ex.openSession(OPEN_NS);
  const c = new CommandRecord();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < s.n; i++) {
    c.type = s.type[i]!;
    c.tsNs = OPEN_NS + 1 + i;
    c.instrument = 0;
    c.account = s.account[i]!;
    c.clOrdId = s.clOrdId[i]!;
    c.side = s.side[i]!;
    c.orderType = s.orderType[i]!;
    c.tif = c.orderType === OrderType.Market ? TimeInForce.IOC : TimeInForce.GTC;
    c.priceTicks = s.price[i]!;
    c.sizeLots = s.size[i]!;
    ex.apply(c);
  }
  const ms = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  return { ms, cpuMs: (cu.user + cu.system) / 1000, events: sink.n, riskRejects: sink.riskRejects, riskModifyRejects: sink.riskModifyRejects, modified: sink.modified, byReason: sink.byReason };
}

export interface RiskBenchResult {
  commands: number;
  /** Pairs per isolate, and isolates per mode. */
  reps: number;
  isolates: number;
  /** Medians of each mode's times over the repetitions. */
  matchingMs: number;
  /** Pre-trade risk (engine/risk.ts) before the book, nothing after it. */
  withRiskMs: number;
  /** The whole back office: risk, plus ledger transfer, fees, portfolio and fee events per trade. */
  withBackOfficeMs: number;
  matchingCommandsPerSec: number;
  withRiskCommandsPerSec: number;
  withBackOfficeCommandsPerSec: number;
  /**
   * Median over all repetitions of all isolates of (risk time / matching time) within the
   * same repetition: the two runs of a pair are back to back, so load that comes and goes
   * hits both. The target is at most 1.5.
   */
  ratio: number;
  /** Each isolate's median of its per-repetition ratios (risk, then the whole back office). */
  isolateRatios: number[];
  backOfficeIsolateRatios: number[];
  /** Median of the per-repetition whole-back-office / matching ratios. */
  backOfficeRatio: number;
  /** Smallest and largest per-repetition ratios: the spread the noise left. */
  ratioRange: [number, number];
  backOfficeRatioRange: [number, number];
  /** Ratios of the medians (the figure this bench printed before it paired runs). */
  ratioOfMedians: number;
  backOfficeRatioOfMedians: number;
  /** The same per-repetition ratio medians on process CPU time instead of wall time (GC and JIT threads included). */
  cpuRatio: number;
  backOfficeCpuRatio: number;
  eventsMatching: number;
  eventsWithBackOffice: number;
  /** Of the risk run: submits and modifies risk refused, and modifies the venue applied. */
  riskRejects: number;
  riskModifyRejects: number;
  modified: number;
  /**
   * Risk's own compute: the calls RiskHooks made into Risk in one run (checks, order
   * updates, trades, modifies), replayed on a fresh Risk with no matching between
   * them (median ms), and that as a share of matching alone. In the run, what risk adds
   * beyond this is the exchange's side of the hooks and Risk's state fetched again after
   * matching has evicted it.
   */
  riskAloneMs: number;
  riskAloneShare: number;
  riskCalls: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Risk's calls from one risk run, in order: kind, up to 7 arguments, and what a check returned. */
class RiskCalls {
  n = 0;
  kind = new Uint8Array(1 << 20);
  args = new Float64Array(8 << 20);
  push(kind: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, result: number): void {
    if (this.n === this.kind.length) {
      const k = new Uint8Array(this.n * 2);
      k.set(this.kind);
      this.kind = k;
      const a = new Float64Array(this.n * 16);
      a.set(this.args);
      this.args = a;
    }
    const a = this.args;
    const j = this.n * 8;
    this.kind[this.n++] = kind;
    a[j] = a0;
    a[j + 1] = a1;
    a[j + 2] = a2;
    a[j + 3] = a3;
    a[j + 4] = a4;
    a[j + 5] = a5;
    a[j + 6] = a6;
    a[j + 7] = result;
  }
}

const CALL_CHECK = 1;
const CALL_ORDER = 2;
const CALL_CHECK_MODIFY = 3;
const CALL_MODIFY = 4;
const CALL_REFERENCE = 5;
const CALL_TRADE = 6;

/** Records every call RiskHooks makes into Risk (a modify's own onOrder calls are part of modifyOrder). */
class RecordingRisk extends Risk {
  static calls = new RiskCalls();
  private inModify = false;
  override checkOrder(orderId: number, account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const r = super.checkOrder(orderId, account, instrument, side, priceTicks, sizeLots);
    RecordingRisk.calls.push(CALL_CHECK, orderId, account, instrument, side, priceTicks, sizeLots, this.nowNs, r);
    return r;
  }
  override onOrder(change: OrderChange, orderId: number, account: number, instrument: number, side: Side, priceTicks: number, lots: number): void {
    if (!this.inModify) RecordingRisk.calls.push(CALL_ORDER, change, orderId, account, instrument, side, priceTicks, lots, 0);
    super.onOrder(change, orderId, account, instrument, side, priceTicks, lots);
  }
  override onTrade(takerId: number, makerId: number, lots: number, priceTicks: number): void {
    RecordingRisk.calls.push(CALL_TRADE, takerId, makerId, lots, priceTicks, 0, 0, 0, 0);
    super.onTrade(takerId, makerId, lots, priceTicks);
  }
  override checkModifyOrder(orderId: number, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const r = super.checkModifyOrder(orderId, priceTicks, sizeLots);
    RecordingRisk.calls.push(CALL_CHECK_MODIFY, orderId, priceTicks, sizeLots, 0, 0, 0, 0, r);
    return r;
  }
  override modifyOrder(orderId: number, priceTicks: number, leavesLots: number): void {
    RecordingRisk.calls.push(CALL_MODIFY, orderId, priceTicks, leavesLots, 0, 0, 0, 0, 0);
    this.inModify = true;
    super.modifyOrder(orderId, priceTicks, leavesLots);
    this.inModify = false;
  }
  override setReferencePrice(instrument: number, priceTicks: number): void {
    RecordingRisk.calls.push(CALL_REFERENCE, instrument, priceTicks, 0, 0, 0, 0, 0, 0);
    super.setReferencePrice(instrument, priceTicks);
  }
}

/** The recorded calls on a fresh Risk, timed; throws if any check answers differently than it did in the run. */
function replayRisk(calls: RiskCalls): number {
  const r = benchRisk();
  const k = calls.kind;
  const a = calls.args;
  let bad = 0;
  const t0 = performance.now();
  for (let i = 0; i < calls.n; i++) {
    const j = i * 8;
    switch (k[i]) {
      case CALL_CHECK:
        r.nowNs = a[j + 6]!;
        if (r.checkOrder(a[j]!, a[j + 1]! | 0, a[j + 2]! | 0, a[j + 3]! as Side, a[j + 4]!, a[j + 5]!) !== a[j + 7]) bad++;
        break;
      case CALL_ORDER:
        r.onOrder(a[j]! as OrderChange, a[j + 1]!, a[j + 2]! | 0, a[j + 3]! | 0, a[j + 4]! as Side, a[j + 5]!, a[j + 6]!);
        break;
      case CALL_CHECK_MODIFY:
        if (r.checkModifyOrder(a[j]!, a[j + 1]!, a[j + 2]!) !== a[j + 7]) bad++;
        break;
      case CALL_MODIFY:
        r.modifyOrder(a[j]!, a[j + 1]!, a[j + 2]!);
        break;
      case CALL_REFERENCE:
        r.setReferencePrice(a[j]! | 0, a[j + 1]!);
        break;
      case CALL_TRADE:
        r.onTrade(a[j]!, a[j + 1]!, a[j + 2]!, a[j + 3]!);
        break;
    }
  }
  const ms = performance.now() - t0;
  if (bad !== 0) throw new Error(`risk bench: ${bad} replayed checks answered differently than in the run`);
  return ms;
}

/** What one isolate measured: `reps` pairs (matching alone, then with `mode`) back to back. */
interface PairRuns {
  plainMs: number[];
  hookedMs: number[];
  ratio: number[];
  cpuRatio: number[];
  eventsMatching: number;
  eventsHooked: number;
  riskRejects: number;
  riskModifyRejects: number;
  modified: number;
  /** Risk mode only: Risk's calls from one run replayed on Risk alone (median ms over the repetitions), and how many calls. */
  riskAloneMs: number;
  riskCalls: number;
}

function runPairs(n: number, reps: number, mode: 'risk' | 'back-office'): PairRuns {
  const s = generate(n);
  // Warm both paths up so the JIT has compiled each before timing.
  for (let w = 0; w < 3; w++) {
    runOnce(s, 'matching');
    runOnce(s, mode);
  }
  const out: PairRuns = { plainMs: [], hookedMs: [], ratio: [], cpuRatio: [], eventsMatching: 0, eventsHooked: 0, riskRejects: 0, riskModifyRejects: 0, modified: 0, riskAloneMs: 0, riskCalls: 0 };
  for (let r = 0; r < reps; r++) {
    const a = runOnce(s, 'matching');
    const b = runOnce(s, mode);
    out.plainMs.push(a.ms);
    out.hookedMs.push(b.ms);
    out.ratio.push(b.ms / a.ms);
    out.cpuRatio.push(b.cpuMs / a.cpuMs);
    out.eventsMatching = a.events;
    out.eventsHooked = b.events;
    out.riskRejects = b.riskRejects;
    out.riskModifyRejects = b.riskModifyRejects;
    out.modified = b.modified;
  }
  if (mode === 'risk') {
    // After the timed pairs, so that the recording subclass never reaches the timed runs'
    // call sites: record one run's calls into Risk, then replay them on Risk alone.
    RecordingRisk.calls = new RiskCalls();
    runOnce(s, 'risk', benchRisk(RecordingRisk));
    const calls = RecordingRisk.calls;
    out.riskCalls = calls.n;
    for (let w = 0; w < 3; w++) replayRisk(calls);
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) ms.push(replayRisk(calls));
    out.riskAloneMs = median(ms);
  }
  return out;
}

/**
 * Runs the pairs of one mode in a worker thread: a V8 isolate of its own, so the exchange's
 * code is compiled having seen only the one hooks class a real run has. Measured in one
 * isolate, the exchange's calls into its hooks saw RiskHooks and BackOffice (and every other
 * bench's hooks before them): V8 inlined both classes' methods into the exchange's hot
 * functions, which took the budget that inlines the exchange's own helpers there.
 */
function pairsInWorker(n: number, reps: number, mode: 'risk' | 'back-office'): Promise<PairRuns> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { riskBenchPairs: { n, reps, mode } } });
    w.once('message', (m: PairRuns) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`risk bench worker (${mode}) exited with ${code}`));
    });
  });
}

export async function runRiskBench(opts: { commands?: number; reps?: number; isolates?: number } = {}): Promise<RiskBenchResult> {
  const n = opts.commands ?? 400_000;
  const reps = opts.reps ?? 7;
  const isolates = opts.isolates ?? 3;
  // One isolate after the other, never two at once (they would share the machine's 2 cores),
  // the modes alternating so that a slow stretch of the machine falls on both.
  const risk: PairRuns[] = [];
  const full: PairRuns[] = [];
  for (let k = 0; k < isolates; k++) {
    risk.push(await pairsInWorker(n, reps, 'risk'));
    full.push(await pairsInWorker(n, reps, 'back-office'));
  }
  // The back office runs the same risk: it must refuse the same orders (and every isolate the same).
  const r0 = risk[0]!;
  for (const x of [...risk, ...full]) {
    if (x.riskRejects !== r0.riskRejects || x.riskModifyRejects !== r0.riskModifyRejects) throw new Error('risk bench: the back office and the risk hooks refused different orders');
  }
  const pooled = (xs: PairRuns[], f: (p: PairRuns) => number[]): number[] => xs.flatMap(f);
  const plainRisk = pooled(risk, (p) => p.plainMs);
  const plainFull = pooled(full, (p) => p.plainMs);
  const ratios = pooled(risk, (p) => p.ratio);
  const boRatios = pooled(full, (p) => p.ratio);
  const matchingMs = median([...plainRisk, ...plainFull]);
  const withRiskMs = median(pooled(risk, (p) => p.hookedMs));
  const withBackOfficeMs = median(pooled(full, (p) => p.hookedMs));
  const riskAloneMs = median(risk.map((p) => p.riskAloneMs));
  return {
    commands: n,
    reps,
    isolates,
    matchingMs,
    withRiskMs,
    withBackOfficeMs,
    matchingCommandsPerSec: (n / matchingMs) * 1000,
    withRiskCommandsPerSec: (n / withRiskMs) * 1000,
    withBackOfficeCommandsPerSec: (n / withBackOfficeMs) * 1000,
    ratio: median(ratios),
    isolateRatios: risk.map((p) => median(p.ratio)),
    backOfficeIsolateRatios: full.map((p) => median(p.ratio)),
    backOfficeRatio: median(boRatios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    backOfficeRatioRange: [Math.min(...boRatios), Math.max(...boRatios)],
    ratioOfMedians: withRiskMs / median(plainRisk),
    backOfficeRatioOfMedians: withBackOfficeMs / median(plainFull),
    cpuRatio: median(pooled(risk, (p) => p.cpuRatio)),
    backOfficeCpuRatio: median(pooled(full, (p) => p.cpuRatio)),
    eventsMatching: r0.eventsMatching,
    eventsWithBackOffice: full[0]!.eventsHooked,
    riskRejects: r0.riskRejects,
    riskModifyRejects: r0.riskModifyRejects,
    modified: r0.modified,
    riskAloneMs,
    riskAloneShare: riskAloneMs / median(plainRisk),
    riskCalls: r0.riskCalls,
  };
}

export function formatRiskBench(r: RiskBenchResult): string {
  const f = (x: number): string => Math.round(x).toLocaleString('en-US');
  const x = (v: number): string => `${v.toFixed(2)}x`;
  return [
    `risk bench: ${f(r.commands)} commands; in each of ${r.isolates} workers ${r.reps} pairs (matching alone, then with risk) back to back, and in ${r.isolates} more ${r.reps} pairs with the back office (the workers one after the other, alternating); times are medians`,
    `  matching alone:     ${r.matchingMs.toFixed(1)} ms  ${f(r.matchingCommandsPerSec)} commands/s  (${f(r.eventsMatching)} events)`,
    `  matching with pre-trade risk (RiskHooks): ${r.withRiskMs.toFixed(1)} ms  ${f(r.withRiskCommandsPerSec)} commands/s  (risk refused ${f(r.riskRejects)} submits and ${f(r.riskModifyRejects)} modifies; ${f(r.modified)} modifies applied)`,
    `    ratio ${x(r.ratio)} (median of the ${r.isolates * r.reps} per-pair ratios; per worker ${r.isolateRatios.map(x).join(', ')}; range ${x(r.ratioRange[0])}-${x(r.ratioRange[1])}; ratio of medians ${x(r.ratioOfMedians)}; on CPU time ${x(r.cpuRatio)}; target <= 1.5x)`,
    `    of which Risk alone (its ${f(r.riskCalls)} calls from one run replayed with no matching between them, the replay loop's reads included): ${r.riskAloneMs.toFixed(1)} ms = ${x(r.riskAloneShare).slice(0, -1)} of matching alone; the rest is the exchange's side of the hooks and risk's state fetched again after matching`,
    `  matching with the whole back office (risk + ledger + fees + portfolio): ${r.withBackOfficeMs.toFixed(1)} ms  ${f(r.withBackOfficeCommandsPerSec)} commands/s  (${f(r.eventsWithBackOffice)} events, incl. fees)`,
    `    ratio ${x(r.backOfficeRatio)} (median of the ${r.isolates * r.reps} per-pair ratios; per worker ${r.backOfficeIsolateRatios.map(x).join(', ')}; range ${x(r.backOfficeRatioRange[0])}-${x(r.backOfficeRatioRange[1])}; ratio of medians ${x(r.backOfficeRatioOfMedians)}; on CPU time ${x(r.backOfficeCpuRatio)})`,
  ].join('\n');
}

if (!isMainThread && (workerData as { riskBenchPairs?: unknown } | null)?.riskBenchPairs !== undefined) {
  const { n, reps, mode } = (workerData as { riskBenchPairs: { n: number; reps: number; mode: 'risk' | 'back-office' } }).riskBenchPairs;
  parentPort!.postMessage(runPairs(n, reps, mode));
} else if (isMainThread && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const commands = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const reps = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
  const isolates = process.argv[4] !== undefined ? Number(process.argv[4]) : undefined;
  process.stdout.write(formatRiskBench(await runRiskBench({ ...(commands !== undefined ? { commands } : {}), ...(reps !== undefined ? { reps } : {}), ...(isolates !== undefined ? { isolates } : {}) })) + '\n');
}
