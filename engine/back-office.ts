/**
 * The venue's back office: pre-trade risk before the book and clearing after it, as the
 * exchange's OrderHooks, plus the end-of-day work (marks, P&L, margin calls, T+N settlement,
 * statements) and the pieces of intraday liquidation. It owns Risk, Clearing (ledger +
 * portfolio + fees) and Margin for one venue and publishes its events through the exchange,
 * so they share the exchange's one sequence.
 *
 * Stages per order (exchange-core style): the exchange's own venue checks, then `check`
 * (risk, O(1)), the book, then `onTrade` (one ledger transfer, fees, risk's positions).
 *
 * The pre-trade half (risk's checks, its per-order reservations, the market-order book walk,
 * modifies, fills and cancels for risk) is `RiskHooks` (engine/risk-hooks.ts), to which the
 * OrderHooks methods here delegate; this class adds clearing, fees, portfolio and marks.
 *
 * Not a hot path beyond `check`/`onTrade`/`onReduced`: the end-of-day methods
 * loop over accounts and instruments and may allocate.
 */
import { InvariantError } from './assert.js';
import type { BusinessCalendar } from './calendar.js';
import { dayOfTs } from './calendar.js';
import { Clearing, type ClearingInstrument, type SettledItemVisitor } from './clearing.js';
import { CommandRecord } from './command.js';
import { EOD_JOB_NAME, EventType, JobOutcome } from './event.js';
import type { Exchange, OrderHooks } from './exchange.js';
import { FillLiquidity, type ReplayVenue } from './replay-venue.js';
import { JobScheduler, type JobAttempt } from './jobs.js';
import { Margin, type LiquidationOrder, type MarginTerms } from './margin.js';
import type { Currency, MinorAmount } from './money.js';
import { Risk, type InstrumentPositionLimits, type RiskAccountView, type RiskFirmConfig, type RiskLimits } from './risk.js';
import { RiskHooks } from './risk-hooks.js';
import { NO_PRICE, OrderType, Side } from './types.js';

/**
 * What an instrument is marked to: its last trade, the mid of its book (rounded down to a
 * tick), or a mark-price feed (the scenario's `mark` actions, `setFeedMark`); a feed
 * instrument with no mark yet falls back to its last trade, then its reference price.
 */
export type MarkTo = 'last' | 'mid' | 'feed';

export interface BackOfficeInstrument extends ClearingInstrument {
  readonly referencePriceTicks: number;
  readonly margin: MarginTerms;
  readonly markTo: MarkTo;
}

export interface BackOfficeAccount {
  readonly name: string;
  readonly currency: number;
  readonly firm: number;
  readonly type: 'cash' | 'margin';
  readonly limits?: RiskLimits;
  readonly instrumentLimits?: readonly InstrumentPositionLimits[];
  readonly unsettledUseBps?: number;
  /** Initial deposit in minor units (0 = none). */
  readonly depositMinor: number;
}

export interface BackOfficeConfig {
  readonly currencies: readonly Currency[];
  readonly instruments: readonly BackOfficeInstrument[];
  readonly accounts: readonly BackOfficeAccount[];
  readonly firms: readonly RiskFirmConfig[];
  readonly calendar: BusinessCalendar;
  /** Epoch day of virtual time 0. */
  readonly scenarioDay: number;
  readonly settlementLagDays: number;
  /** Virtual delay before a failed end-of-day job is retried (doubles per attempt). */
  readonly jobRetryNs?: number;
  readonly jobMaxAttempts?: number;
  /** Fault injection for tests and scenarios: job name -> attempts that fail on every day. */
  readonly jobFaults?: Readonly<Record<string, number>>;
}

/** clOrdIds of venue-generated liquidation orders start here, above any action's or feed's. */
export const LIQUIDATION_CLORDID_BASE = 9_000_000_000_000;
export const JOB_RETRY_NS_DEFAULT = 60_000_000_000;

/** One day's statement line per account (filled by the statements job). */
export interface StatementRow {
  readonly day: number;
  readonly account: number;
  readonly cashAvailableMinor: number;
  readonly cashHeldMinor: number;
  readonly cashUnsettledMinor: number;
  readonly equityMinor: number;
  readonly positions: readonly number[];
}

/**
 * Risk's view of the back office's money. A class, not closures: closures made per back office
 * are new call targets for risk's check each time (tests and the bench make many), so its
 * calls would never be inlined.
 */
class BackOfficeCash implements RiskAccountView {
  constructor(private readonly bo: BackOffice) {}
  buyingPowerCovers(a: number, unsettledUseBps: number, amount: Readonly<MinorAmount>): boolean {
    return this.bo.clearing.buyingPowerCovers(a, unsettledUseBps, amount);
  }
  marginExcessCovers(a: number, amount: Readonly<MinorAmount>): boolean {
    return this.bo.marginExcessCovers(a, amount);
  }
}

/** Which of the clearing's last figures an event reports: the trade's taker, its maker, or a street fill's account. */
const TAKER_LEG = 0;
const MAKER_LEG = 1;
const STREET_LEG = 2;

export class BackOffice implements OrderHooks {
  readonly clearing: Clearing;
  readonly risk: Risk;
  /** Pre-trade risk as order hooks: the half of this class's OrderHooks that runs before the book. */
  readonly riskHooks: RiskHooks;
  readonly margin: Margin;
  readonly jobs: JobScheduler;
  readonly config: BackOfficeConfig;
  readonly statements: StatementRow[] = [];
  readonly marginCalls: { day: number; account: number; amountMinor: number; equityMinor: number }[] = [];
  private exchange: Exchange | null = null;
  private readonly nA: number;
  private readonly nI: number;
  private readonly isMargin: Uint8Array;
  /** Per instrument: the last trade (NO_PRICE before the first); the risk hooks' array, which they keep current. */
  private readonly lastPx: Float64Array;
  /** Current marks by instrument; refreshed by `updateMarks`. */
  readonly marks: Float64Array;
  private readonly chargesFees: Uint8Array;
  private readonly markToMid: Uint8Array;
  /** Per instrument: the last mark from the feed (markTo "feed"), NO_PRICE before the first. */
  private readonly feedPx: Float64Array;
  /** Marks must be read from the venue (a mid, or a replayed market that moves without our trades). */
  private anyMid: boolean;
  /** Per instrument: its replay venue when the market is recorded data (set by attach). */
  private replayed: (ReplayVenue | null)[] = [];
  private readonly hasMarginAccounts: boolean;
  /** Bound once: the settlement job's per-trade visitor (no closure per run of the job). */
  private readonly emitTradeSettled: SettledItemVisitor;
  private settleTs = 0;
  private settleDay = 0;

  constructor(config: BackOfficeConfig) {
    this.config = config;
    this.nA = config.accounts.length;
    this.nI = config.instruments.length;
    this.clearing = new Clearing({
      currencies: config.currencies,
      instruments: config.instruments,
      accounts: config.accounts.map((a) => ({ name: a.name, currency: a.currency, firm: a.firm })),
      calendar: config.calendar,
      scenarioDay: config.scenarioDay,
      settlementLagDays: config.settlementLagDays,
    });
    this.margin = new Margin(
      this.clearing,
      config.instruments.map((i) => i.margin),
    );
    this.isMargin = Uint8Array.from(config.accounts, (a) => (a.type === 'margin' ? 1 : 0));
    this.hasMarginAccounts = config.accounts.some((a) => a.type === 'margin');
    this.marks = Float64Array.from(config.instruments, (i) => i.referencePriceTicks);
    this.markToMid = Uint8Array.from(config.instruments, (i) => (i.markTo === 'mid' ? 1 : 0));
    this.feedPx = new Float64Array(this.nI).fill(NO_PRICE);
    this.anyMid = config.instruments.some((i) => i.markTo === 'mid');
    this.chargesFees = Uint8Array.from(config.instruments, (i) => (i.makerBps !== 0 || i.takerBps !== 0 ? 1 : 0));
    this.risk = new Risk(
      {
        instruments: config.instruments.map((ins, i) => ({
          num: ins.num,
          den: ins.den,
          referencePriceTicks: ins.referencePriceTicks,
          feeReserveCentiBps: this.clearing.fees.maxRateCentiBps(i),
          initialPerLotMinor: (px: number) => this.margin.initialPerLotMinor(i, px),
        })),
        accounts: config.accounts.map((a) => ({
          firm: a.firm,
          type: a.type,
          ...(a.limits !== undefined ? { limits: a.limits } : {}),
          ...(a.instrumentLimits !== undefined ? { instrumentLimits: a.instrumentLimits } : {}),
          ...(a.unsettledUseBps !== undefined ? { unsettledUseBps: a.unsettledUseBps } : {}),
        })),
        firms: config.firms,
      },
      new BackOfficeCash(this),
    );
    this.riskHooks = new RiskHooks(
      this.risk,
      config.instruments.map((i) => i.referencePriceTicks),
    );
    this.lastPx = this.riskHooks.lastPx;
    const faults = config.jobFaults ?? {};
    this.jobs = new JobScheduler({
      baseBackoffNs: config.jobRetryNs ?? JOB_RETRY_NS_DEFAULT,
      maxAttempts: config.jobMaxAttempts ?? 3,
      onAttempt: (a) => this.emitJob(a),
    });
    const steps: ((day: number, ts: number) => void)[] = [
      (d, t) => this.markToMarket(d, t),
      (d, t) => this.callMargin(d, t),
      (d, t) => this.settle(d, t),
      (d, t) => this.statement(d, t),
    ];
    EOD_JOB_NAME.forEach((name, k) => {
      const failures = faults[name] ?? 0;
      this.jobs.register(name, k === 0 ? [] : [EOD_JOB_NAME[k - 1]!], (day, attempt, nowNs) => {
        if (attempt <= failures) throw new Error(`injected fault (attempt ${attempt} of ${failures} set to fail)`);
        steps[k]!(day, nowNs);
      });
    });
    this.emitTradeSettled = (account, instrument, tradeId, orderId, side, lots, cashMinor) => {
      const e = this.ex().beginExtra(EventType.TradeSettled, this.settleTs);
      e.instrument = instrument;
      e.account = account;
      e.tradeId = tradeId;
      e.orderId = orderId;
      e.side = side;
      e.sizeLots = lots < 0 ? -lots : lots;
      e.amountMinor = cashMinor;
      e.ref = this.settleDay;
      this.ex().publishExtra();
    };
  }

  /** The exchange whose hooks this is: needed for events and the book walk of market orders. */
  attach(exchange: Exchange): void {
    this.exchange = exchange;
    this.riskHooks.attach(exchange);
    this.replayed = this.config.instruments.map((_, i) => exchange.replayVenue(i));
    // A recorded market prints without reaching onTrade, so its marks come from the venue.
    if (this.replayed.some((v) => v !== null)) this.anyMid = true;
  }

  private ex(): Exchange {
    const x = this.exchange;
    if (x === null) throw new InvariantError('back office used before attach(exchange)');
    return x;
  }

  get accountCount(): number {
    return this.nA;
  }
  get instrumentCount(): number {
    return this.nI;
  }
  get anyMarginAccount(): boolean {
    return this.hasMarginAccounts;
  }
  isMarginAccount(a: number): boolean {
    return this.isMargin[a] === 1;
  }

  // ---- funding and switches ------------------------------------------------------

  /** Pays every account's initial deposit in (deposit events). */
  fundAccounts(tsNs: number): void {
    this.config.accounts.forEach((acc, a) => {
      if (acc.depositMinor <= 0) return;
      this.clearing.deposit(tsNs, a, acc.depositMinor);
      const e = this.ex().beginExtra(EventType.Deposit, tsNs);
      e.account = a;
      e.amountMinor = acc.depositMinor;
      e.amount2Minor = this.clearing.ledger.normalBalance(this.clearing.cashAvailableAccount(a));
      this.ex().publishExtra();
    });
  }

  setAccountKillSwitch(tsNs: number, account: number, on: boolean): void {
    this.risk.setKillSwitch(account, on);
    this.emitKill(tsNs, account, 0, on);
  }

  setFirmKillSwitch(tsNs: number, firm: number, on: boolean): void {
    this.risk.setFirmKillSwitch(firm, on);
    for (let a = 0; a < this.nA; a++) if (this.config.accounts[a]!.firm === firm) this.emitKill(tsNs, a, 1, on);
  }

  private emitKill(tsNs: number, account: number, scope: number, on: boolean): void {
    const e = this.ex().beginExtra(EventType.KillSwitch, tsNs);
    e.account = account;
    e.code = scope;
    e.flags = on ? 1 : 0;
    this.ex().publishExtra();
  }

  // ---- OrderHooks (hot path: no allocation) ------------------------------------------------

  check(c: CommandRecord, orderId: number): number {
    return this.riskHooks.check(c, orderId);
  }

  onRefused(orderId: number): void {
    this.riskHooks.onRefused(orderId);
  }

  onTrade(tradeId: number, instrument: number, takerOrderId: number, makerOrderId: number, takerAccount: number, makerAccount: number, takerSide: number, priceTicks: number, sizeLots: number): void {
    const cl = this.clearing;
    // The time goes by field, not argument: an argument would be boxed (see Clearing.nowNs).
    cl.nowNs = this.ex().timeNs;
    cl.bookTrade(tradeId, instrument, takerAccount, makerAccount, takerSide as Side, priceTicks, sizeLots, takerOrderId, makerOrderId);
    if (this.chargesFees[instrument] === 1) {
      this.emitFee(instrument, takerAccount, tradeId, 0, cl.lastTakerFeeMinor);
      this.emitFee(instrument, makerAccount, tradeId, 1, cl.lastMakerFeeMinor);
    }
    this.emitCleared(instrument, takerAccount, tradeId, takerOrderId, takerSide, priceTicks, sizeLots, TAKER_LEG);
    this.emitCleared(instrument, makerAccount, tradeId, makerOrderId, takerSide === Side.Buy ? Side.Sell : Side.Buy, priceTicks, sizeLots, MAKER_LEG);
    // Risk's fills, the last trade (lastPx) and risk's reference price.
    this.riskHooks.onTrade(tradeId, instrument, takerOrderId, makerOrderId, takerAccount, makerAccount, takerSide, priceTicks, sizeLots);
    if (this.markToMid[instrument] === 0 && this.feedPx[instrument] === NO_PRICE) this.marks[instrument] = priceTicks;
  }

  /**
   * The clearing record of one side of one trade (at the exchange's current time): what the
   * account receives or pays, and when. `leg` names the clearing's figure of that cash (taker,
   * maker or street), read here: a trade's cash is rarely a small integer, and passed to a call
   * V8 does not inline it would be boxed.
   */
  private emitCleared(instrument: number, account: number, tradeId: number, orderId: number, side: number, priceTicks: number, sizeLots: number, leg: number): void {
    const cl = this.clearing;
    const e = this.ex().beginExtraNow(EventType.Cleared);
    e.instrument = instrument;
    e.account = account;
    e.tradeId = tradeId;
    e.orderId = orderId;
    e.side = side;
    e.priceTicks = priceTicks;
    e.sizeLots = sizeLots;
    e.amountMinor = leg === TAKER_LEG ? cl.lastTakerCashMinor : leg === MAKER_LEG ? cl.lastMakerCashMinor : cl.lastStreetCashMinor;
    e.ref = cl.lastSettleDay;
    this.ex().publishExtra();
  }

  /**
   * An own fill against a recorded market: clearing against the street accounts, the fee
   * (maker when the order rested and was reached, taker when it crossed), risk's open orders
   * and position, marks and the clearing record (T+N delivery), as onTrade does for a trade
   * between accounts.
   */
  onFill(tradeId: number, instrument: number, orderId: number, account: number, side: number, priceTicks: number, sizeLots: number, liquidity: number): void {
    const maker = liquidity !== FillLiquidity.Taker;
    const cl = this.clearing;
    cl.nowNs = this.ex().timeNs;
    cl.bookStreetFill(tradeId, instrument, account, side as Side, priceTicks, sizeLots, maker, orderId);
    if (this.chargesFees[instrument] === 1) this.emitFee(instrument, account, tradeId, maker ? 1 : 0, cl.lastStreetFeeMinor);
    this.emitCleared(instrument, account, tradeId, orderId, side, priceTicks, sizeLots, STREET_LEG);
    this.riskHooks.onFill(tradeId, instrument, orderId, account, side, priceTicks, sizeLots, liquidity);
    if (this.markToMid[instrument] === 0 && this.feedPx[instrument] === NO_PRICE) this.marks[instrument] = priceTicks;
  }

  /**
   * Cash the account can take out now (a withdrawal): cash-available, less unsettled purchases
   * (payables, in full: a sale's proceeds may settle after them, so they are not netted) and
   * less what risk holds for open orders; for a margin account also no more than its excess
   * over initial margin after those reservations. Unsettled sales are not counted before they
   * settle. May be negative (a deficit, e.g. after an ACH return).
   */
  withdrawableMinor(a: number): number {
    const L = this.clearing.ledger;
    const cash = L.normalBalance(this.clearing.cashAvailableAccount(a)) - this.clearing.unsettledPayableMinor(a) - this.risk.reservedMinor(a);
    if (this.isMargin[a] !== 1) return cash;
    const excess = this.margin.initialExcessMinor(a, this.updateMarks()) - this.risk.reservedMinor(a);
    return excess < cash ? excess : cash;
  }

  onReduced(orderId: number, lots: number): void {
    this.riskHooks.onReduced(orderId, lots);
  }

  checkModify(orderId: number, priceTicks: number, sizeLots: number): number {
    return this.riskHooks.checkModify(orderId, priceTicks, sizeLots);
  }

  onModified(orderId: number, priceTicks: number, leavesLots: number): void {
    this.riskHooks.onModified(orderId, priceTicks, leavesLots);
  }

  onTriggered(orderId: number, instrument: number, side: number, orderType: number, sizeLots: number): number {
    return this.riskHooks.onTriggered(orderId, instrument, side, orderType, sizeLots);
  }

  /** A fee (or rebate) charged on one side of a trade, at the exchange's current time. */
  private emitFee(instrument: number, account: number, tradeId: number, maker: number, fee: number): void {
    const e = this.ex().beginExtraNow(EventType.Fee);
    e.instrument = instrument;
    e.account = account;
    e.tradeId = tradeId;
    e.code = maker;
    e.amountMinor = fee;
    this.ex().publishExtra();
  }

  // ---- marks ---------------------------------------------------------------------

  /**
   * A mark from the instrument's mark-price feed (markTo "feed"): from now on it is the
   * instrument's mark for P&L, margin and the end of day's variation margin, until the next
   * one; trades no longer move it. Publishes a mark event (the day is the mark's trade day).
   */
  setFeedMark(tsNs: number, instrument: number, priceTicks: number): void {
    if (this.config.instruments[instrument]!.markTo !== 'feed') throw new InvariantError(`instrument ${instrument} is not marked to a feed`);
    if (!(priceTicks > 0)) throw new InvariantError('a feed mark needs a positive price');
    this.feedPx[instrument] = priceTicks;
    this.marks[instrument] = priceTicks;
    const e = this.ex().beginExtra(EventType.Mark, tsNs);
    e.instrument = instrument;
    e.ref = dayOfTs(this.config.scenarioDay, tsNs);
    e.priceTicks = priceTicks;
    this.ex().publishExtra();
  }

  /** Marks now: a feed's last mark (markTo "feed"), the mid (markTo "mid", both sides quoted), else the last trade, else the reference. */
  updateMarks(): Float64Array {
    for (let i = 0; i < this.nI; i++) {
      let m = this.lastPx[i] !== NO_PRICE ? this.lastPx[i]! : this.config.instruments[i]!.referencePriceTicks;
      const rv = this.replayed[i];
      // A recorded market's last print, ours or not, is its last trade.
      if (rv && this.exchange!.lastTrade(i) !== NO_PRICE) m = this.exchange!.lastTrade(i);
      if (this.markToMid[i] === 1 && this.exchange !== null) {
        const book = rv ?? this.exchange.book(i);
        const bid = book.bestBid();
        const ask = book.bestAsk();
        // Mid rounded down to a whole tick: marks stay on the price grid.
        if (bid !== NO_PRICE && ask !== NO_PRICE) m = Math.floor((bid + ask) / 2);
      }
      if (this.feedPx[i] !== NO_PRICE) m = this.feedPx[i]!;
      this.marks[i] = m;
    }
    return this.marks;
  }

  /** The marks margin is checked at: marks to the last trade are kept current by onTrade; only mids need the books. */
  private marginMarks(): ArrayLike<number> {
    return this.anyMid ? this.updateMarks() : this.marks;
  }

  /** Equity minus the initial requirement of positions. */
  marginExcessMinor(a: number): number {
    return this.margin.initialExcessMinor(a, this.marginMarks());
  }

  /** Risk's margin check: whether marginExcessMinor(a) >= amount.minor, compared in the margin so that no money figure crosses (boxed) the calls between risk and the margin. */
  marginExcessCovers(a: number, amount: Readonly<MinorAmount>): boolean {
    return this.margin.initialExcessCovers(a, this.marginMarks(), amount);
  }

  equityMinor(a: number): number {
    return this.clearing.equityMinor(a, this.updateMarks());
  }

  // ---- intraday liquidation ------------------------------------------------------------

  /** Margin accounts whose equity is below maintenance at the current marks. */
  accountsToLiquidate(): number[] {
    const out: number[] = [];
    if (!this.hasMarginAccounts) return out;
    this.updateMarks();
    for (let a = 0; a < this.nA; a++) if (this.isMargin[a] === 1 && this.margin.needsLiquidation(a, this.marks)) out.push(a);
    return out;
  }

  /** What to sell or buy back to bring `a` back above maintenance (largest requirement first). */
  planLiquidation(a: number): LiquidationOrder[] {
    return this.margin.planLiquidation(a, this.updateMarks());
  }

  /** The liquidation-start event: equity and maintenance requirement at the current marks. */
  announceLiquidation(tsNs: number, a: number): void {
    this.updateMarks();
    const e = this.ex().beginExtra(EventType.LiquidationStart, tsNs);
    e.account = a;
    e.amountMinor = this.margin.equityMinor(a, this.marks);
    e.amount2Minor = this.margin.maintenanceRequirementMinor(a, this.marks);
    this.ex().publishExtra();
  }

  /** Announces and submits one liquidation order (IOC market) through the book; risk checks are skipped for it. */
  submitLiquidation(tsNs: number, a: number, o: LiquidationOrder, clOrdId: number, apply: (c: CommandRecord) => void, cmd: CommandRecord): void {
    const e = this.ex().beginExtra(EventType.LiquidationOrder, tsNs);
    e.instrument = o.instrument;
    e.account = a;
    e.clOrdId = clOrdId;
    e.side = o.side;
    e.sizeLots = o.sizeLots;
    this.ex().publishExtra();
    cmd.clear();
    cmd.tsNs = tsNs;
    cmd.instrument = o.instrument;
    cmd.account = a;
    cmd.clOrdId = clOrdId;
    cmd.side = o.side;
    cmd.orderType = OrderType.Market;
    cmd.tif = 2; // IOC
    cmd.sizeLots = o.sizeLots;
    this.riskHooks.bypass = true;
    try {
      apply(cmd);
    } finally {
      this.riskHooks.bypass = false;
    }
  }

  // ---- end of day ---------------------------------------------------------------------

  private markToMarket(day: number, ts: number): void {
    const ex = this.ex();
    const marks = this.updateMarks();
    for (let i = 0; i < this.nI; i++) {
      const e = ex.beginExtra(EventType.Mark, ts);
      e.instrument = i;
      e.ref = day;
      e.priceTicks = marks[i]!;
      ex.publishExtra();
    }
    const pf = this.clearing.portfolio;
    for (let i = 0; i < this.nI; i++) {
      if (!pf.isFuture(i)) continue;
      for (let a = 0; a < this.nA; a++) {
        const amount = this.clearing.variationMargin(ts, a, i, marks[i]!);
        if (amount === 0) continue;
        const e = ex.beginExtra(EventType.VariationMargin, ts);
        e.instrument = i;
        e.account = a;
        e.ref = day;
        e.amountMinor = amount;
        ex.publishExtra();
      }
    }
    for (let i = 0; i < this.nI; i++) this.risk.setReferencePrice(i, marks[i]!);
    const rows = pf.snapshot(day, marks);
    for (const r of rows) {
      const e = ex.beginExtra(EventType.Pnl, ts);
      e.account = r.account;
      e.ref = day;
      e.amountMinor = r.dayMinor;
      e.amount2Minor = this.clearing.equityMinor(r.account, marks);
      ex.publishExtra();
    }
  }

  private callMargin(day: number, ts: number): void {
    const marks = this.marks;
    for (let a = 0; a < this.nA; a++) {
      if (this.isMargin[a] !== 1) continue;
      const call = this.margin.marginCallMinor(a, marks);
      if (call <= 0) continue;
      const equity = this.margin.equityMinor(a, marks);
      this.marginCalls.push({ day, account: a, amountMinor: call, equityMinor: equity });
      const e = this.ex().beginExtra(EventType.MarginCall, ts);
      e.account = a;
      e.ref = day;
      e.amountMinor = call;
      e.amount2Minor = equity;
      this.ex().publishExtra();
    }
  }

  /**
   * T+N: the clearing's settlement transfers (cash and securities, per account), then the
   * events: one trade-settled per trade side due (trade order), then per account the net
   * cash-settled and per instrument the net securities-settled, both read off the ledger.
   */
  private settle(day: number, ts: number): void {
    const ex = this.ex();
    const cl = this.clearing;
    const L = cl.ledger;
    const nI = this.nI;
    const before = new Float64Array(this.nA);
    const lotsBefore = new Float64Array(this.nA * nI);
    for (let a = 0; a < this.nA; a++) {
      before[a] = L.normalBalance(cl.cashAvailableAccount(a));
      for (let i = 0; i < nI; i++) lotsBefore[a * nI + i] = cl.settledLots(a, i);
    }
    this.settleTs = ts;
    this.settleDay = day;
    cl.settle(ts, day, this.emitTradeSettled);
    for (let a = 0; a < this.nA; a++) {
      const moved = L.normalBalance(cl.cashAvailableAccount(a)) - before[a]!;
      if (moved === 0) continue;
      const e = ex.beginExtra(EventType.CashSettled, ts);
      e.account = a;
      e.ref = day;
      e.amountMinor = moved;
      ex.publishExtra();
    }
    for (let a = 0; a < this.nA; a++) {
      for (let i = 0; i < nI; i++) {
        const lots = cl.settledLots(a, i) - lotsBefore[a * nI + i]!;
        if (lots === 0) continue;
        const e = ex.beginExtra(EventType.SecuritiesSettled, ts);
        e.instrument = i;
        e.account = a;
        e.ref = day;
        e.sizeLots = lots;
        ex.publishExtra();
      }
    }
  }

  private statement(day: number, _ts: number): void {
    const L = this.clearing.ledger;
    const pf = this.clearing.portfolio;
    for (let a = 0; a < this.nA; a++) {
      const positions: number[] = [];
      for (let i = 0; i < this.nI; i++) positions.push(pf.position(a, i));
      this.statements.push({
        day,
        account: a,
        cashAvailableMinor: L.normalBalance(this.clearing.cashAvailableAccount(a)),
        cashHeldMinor: L.normalBalance(this.clearing.cashHeldAccount(a)),
        cashUnsettledMinor: L.normalBalance(this.clearing.cashUnsettledAccount(a)),
        equityMinor: this.clearing.equityMinor(a, this.marks),
        positions,
      });
    }
  }

  private emitJob(a: JobAttempt): void {
    const e = this.ex().beginExtra(EventType.Job, a.tsNs);
    e.code = EOD_JOB_NAME.indexOf(a.job as (typeof EOD_JOB_NAME)[number]);
    e.ref = a.day;
    e.flags = a.attempt;
    e.reason = a.outcome === 'succeeded' ? JobOutcome.Succeeded : a.outcome === 'skipped' ? JobOutcome.Skipped : a.retryAtNs >= 0 ? JobOutcome.Retrying : JobOutcome.Failed;
    this.ex().publishExtra();
  }
}
