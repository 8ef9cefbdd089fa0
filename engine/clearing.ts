/**
 * Clearing and settlement on the ledger: the chart of accounts, and the transfers for
 * deposits, trades, fees, holds, T+N settlement and futures variation margin. It also keeps
 * the portfolio in step, so the exchange makes one call per trade.
 *
 * Chart of accounts (see docs/accounts.md)
 * - per currency: `bank` (asset: customers' money at the bank), `clearingCash` (asset: the
 *   clearing house's side of every cash leg), `feesRevenue` (revenue).
 * - per instrument: `clearingSec` (asset: the other side of every securities leg), `custody` (asset).
 * - per customer account (in its currency): `cashAvailable`, `cashHeld`, `cashUnsettled`
 *   (liabilities: money the venue owes the customer; unsettled is net receivable(+)/payable(-)),
 *   and `securities(account, instrument)` (liability in lots: the customer's position).
 *
 * A trade is ONE transfer: the buyer's unsettled securities +lots and the seller's -lots
 * against clearingSec (futures: straight to the position, they are never delivered); for
 * equities the buyer's unsettled cash -notional and the seller's +notional against
 * clearingCash; each side's fee from its unsettled cash to feesRevenue (a rebate the other way).
 * Each side of each trade is one obligation (trade id, order id, lots, cash) due on the
 * settlement day (T+N business days, engine/calendar.ts). On that day one Settlement transfer
 * per account moves the net of its due obligations: cash from unsettled to available, and per
 * instrument the lots from `<acct>:SYM:unsettled` to the settled holding `<acct>:SYM` (delivery
 * versus payment in one transfer). The position is settled + unsettled lots.
 *
 * API
 * - `new Clearing(config)`; `ledger`, `portfolio`, `fees` are public.
 * - `deposit(tsNs, account, amountMinor)`, `withdraw(tsNs, account, amountMinor)`.
 * - `onTrade(tsNs, tradeId, instrument, takerAccount, makerAccount, takerSide, priceTicks, sizeLots, takerOrderId?, makerOrderId?)`:
 *   fees from the schedule (taker/maker); `lastTakerFeeMinor`, `lastMakerFeeMinor` hold what was charged,
 *   `lastTakerCashMinor`, `lastMakerCashMinor` and `lastSettleDay` each side's obligation.
 * - `onStreetFill(tsNs, tradeId, instrument, account, side, priceTicks, sizeLots, maker, orderId?)`: an own
 *   fill against a recorded market (replayed instrument): the account's legs as in a trade, the
 *   other side on the street accounts; `lastStreetFeeMinor` holds the fee charged.
 * - Hot path: `bookTrade(…)` and `bookStreetFill(…)` are the same without `tsNs`: the caller sets
 *   `nowNs` first (see that field).
 * - `settle(tsNs, day, visit?)`: settles every obligation due on or before `day` (epoch day), calling
 *   `visit` for each (per trade side, in trade order); returns the count.
 * - `hold(tsNs, account, amountMinor)` / `release(...)`: optional mirror of order reservations.
 * - `variationMargin(tsNs, account, instrument, markTicks)`: pays/collects a future's VM in available cash.
 * - views: `settledCashMinor(a)` (available + held), `unsettledCashMinor(a)` (net), its two
 *   legs `unsettledReceivableMinor(a)` and `unsettledPayableMinor(a)` (both >= 0), `cashMinor(a)`,
 *   `settledLots(a, i)`, `unsettledLots(a, i)`,
 *   `equityMinor(a, marks)` = cash + sum(markValue) - sum(futures vmBasis);
 *   `positionLots(a, i)` = `settledLots` + `unsettledLots`.
 */
import { assert, InvariantError } from './assert.js';
import type { BusinessCalendar } from './calendar.js';
import { dayOfTs, NS_PER_DAY, tsOfDay } from './calendar.js';
import { FeeSchedule } from './fees.js';
import { AccountKind, Ledger, TransferCode } from './ledger.js';
import { type Currency, feeOnNotionalOut, type MinorAmount, MONEY_OUT, rateBpsFloor } from './money.js';
import { Portfolio } from './portfolio.js';
import { Side } from './types.js';

export interface ClearingInstrument {
  readonly symbol: string;
  /** Index into `currencies`. */
  readonly currency: number;
  readonly num: number;
  readonly den: number;
  readonly isFuture: boolean;
  readonly makerBps: number;
  readonly takerBps: number;
  /**
   * The instrument's market is replayed from recorded data: own orders fill against the
   * recorded market, which has no account, so the other side of those fills is posted to
   * `street:SYM` and `street:CCY` (opened only for such instruments).
   */
  readonly street?: boolean;
}

export interface ClearingAccount {
  readonly name: string;
  /** Index into `currencies`: the account's cash currency. */
  readonly currency: number;
  readonly firm: number;
}

export interface ClearingConfig {
  readonly currencies: readonly Currency[];
  readonly instruments: readonly ClearingInstrument[];
  readonly accounts: readonly ClearingAccount[];
  readonly calendar: BusinessCalendar;
  /** Epoch day of virtual time 0. */
  readonly scenarioDay: number;
  /** T+N; 1 by default. */
  readonly settlementLagDays?: number;
}

/** Unsettled obligations waiting for their day; a bound, not a preallocation. */
export const OBLIGATIONS_MAX = 1 << 26;

/**
 * One side of one trade, settled: `lots` delivered into (+) or out of (-) the account's settled
 * holding (0 for futures, never delivered), `cashMinor` received (+) or paid (-), fee included.
 */
export type SettledItemVisitor = (account: number, instrument: number, tradeId: number, orderId: number, side: Side, lots: number, cashMinor: number) => void;

export class Clearing {
  readonly ledger = new Ledger();
  readonly portfolio: Portfolio;
  readonly fees: FeeSchedule;
  readonly settlementLagDays: number;
  private readonly calendar: BusinessCalendar;
  private readonly scenarioDay: number;
  private readonly nInstruments: number;
  private readonly nAccounts: number;

  private readonly insCurrency: Int32Array;
  private readonly acctCurrency: Int32Array;
  private readonly bankId: Int32Array;
  private readonly clearingCashId: Int32Array;
  private readonly feesId: Int32Array;
  private readonly clearingSecId: Int32Array;
  private readonly custodyId: Int32Array;
  private readonly availId: Int32Array;
  private readonly heldId: Int32Array;
  private readonly unsettledId: Int32Array;
  private readonly secId: Int32Array;
  /** Per (account, instrument): `<acct>:SYM:unsettled`, lots bought (+) / sold (-) not yet delivered; -1 for futures. */
  private readonly pendingSecId: Int32Array;

  // Obligations queue, one per side of a trade: settle days never decrease along the queue,
  // because trade days do not.
  private oAccount = new Int32Array(1024);
  private oInstrument = new Int32Array(1024);
  private oSide = new Uint8Array(1024);
  private oTrade = new Float64Array(1024);
  private oOrder = new Float64Array(1024);
  private oLots = new Float64Array(1024);
  private oAmount = new Float64Array(1024);
  private oDay = new Float64Array(1024);
  private oHead = 0;
  private oTail = 0;
  private readonly settleSum: Float64Array;
  /**
   * Per account: what its unsettled trade sides will pay it (receivables) and what it will pay
   * (payables, as a positive amount), each side fees included. The ledger keeps only their net
   * (`<acct>:cash-unsettled`); buying power haircuts receivables but counts payables in full,
   * and a receivable may settle after a payable, so the two are kept apart.
   */
  private readonly receivable: Float64Array;
  private readonly payable: Float64Array;
  /** Lots to deliver per (account, instrument) in the settlement being built. */
  private readonly settleLots: Float64Array;
  private readonly touched: Int32Array;
  private readonly isTouched: Uint8Array;
  /**
   * Memo of the last trade day's settlement day, by the day's span of time: the calendar walk
   * runs once a day, not per trade, and within the day no call takes the time (see nowNs).
   */
  private memoDayStartNs = Number.NaN;
  private memoDayEndNs = Number.NaN;
  private memoSettleDay = 0;
  /** The cash of the obligation `addObligation` books next, set by the caller first (by field, for the reason at nowNs: a trade's cash is rarely a small integer). */
  private obligationCashMinor = 0.5;

  lastTakerFeeMinor = 0;
  lastMakerFeeMinor = 0;
  lastStreetFeeMinor = 0;
  /** Cash each side of the last trade will receive (+) or pay (-) on its settlement day, fees included. */
  lastTakerCashMinor = 0;
  lastMakerCashMinor = 0;
  lastStreetCashMinor = 0;
  /** Epoch day the last trade or street fill settles on. */
  lastSettleDay = 0;
  /**
   * Virtual time (ns) of the trade or street fill `bookTrade` / `bookStreetFill` books, set by
   * the caller first. A field rather than an argument: a trading day's timestamp is no small
   * integer, and passed to a call V8 does not inline it is boxed in a new heap number on every
   * trade, where a store to a double field writes its box in place. Starts as a fraction so
   * that the field is a double from the start.
   */
  nowNs = 0.5;
  /** Per instrument: `street:SYM`, or -1 when the instrument is not replayed. */
  private readonly streetSecId: Int32Array;
  /** Per currency: `street:CCY`, or -1 when no replayed instrument trades in it. */
  private readonly streetCashId: Int32Array;

  constructor(config: ClearingConfig) {
    const { currencies, instruments, accounts } = config;
    this.calendar = config.calendar;
    this.scenarioDay = config.scenarioDay;
    this.settlementLagDays = config.settlementLagDays ?? 1;
    this.nowNs = 0;
    this.obligationCashMinor = 0;
    this.nInstruments = instruments.length;
    this.nAccounts = accounts.length;
    const L = this.ledger;
    const cashAsset = currencies.map((c) => L.addAsset(c.code));
    this.bankId = Int32Array.from(currencies, (c, k) => L.openAccount(`bank:${c.code}`, cashAsset[k]!, AccountKind.Asset));
    this.clearingCashId = Int32Array.from(currencies, (c, k) => L.openAccount(`clearing:${c.code}`, cashAsset[k]!, AccountKind.Asset));
    this.feesId = Int32Array.from(currencies, (c, k) => L.openAccount(`fees:${c.code}`, cashAsset[k]!, AccountKind.Revenue));
    this.insCurrency = Int32Array.from(instruments, (ins) => {
      assert(ins.currency >= 0 && ins.currency < currencies.length, `${ins.symbol}: unknown currency`);
      return ins.currency;
    });
    const secAsset = instruments.map((ins) => L.addAsset(ins.symbol));
    this.clearingSecId = Int32Array.from(instruments, (ins, i) => L.openAccount(`clearing:${ins.symbol}`, secAsset[i]!, AccountKind.Asset));
    this.custodyId = Int32Array.from(instruments, (ins, i) => L.openAccount(`custody:${ins.symbol}`, secAsset[i]!, AccountKind.Asset));
    this.acctCurrency = Int32Array.from(accounts, (a) => a.currency);
    this.availId = Int32Array.from(accounts, (a) => L.openAccount(`${a.name}:cash-available`, cashAsset[a.currency]!, AccountKind.Liability));
    this.heldId = Int32Array.from(accounts, (a) => L.openAccount(`${a.name}:cash-held`, cashAsset[a.currency]!, AccountKind.Liability));
    this.unsettledId = Int32Array.from(accounts, (a) => L.openAccount(`${a.name}:cash-unsettled`, cashAsset[a.currency]!, AccountKind.Liability));
    this.secId = new Int32Array(accounts.length * instruments.length);
    accounts.forEach((a, ai) => {
      instruments.forEach((ins, i) => {
        this.secId[ai * instruments.length + i] = L.openAccount(`${a.name}:${ins.symbol}`, secAsset[i]!, AccountKind.Liability);
      });
    });
    this.portfolio = new Portfolio(
      accounts.length,
      instruments.map((ins) => ({ num: ins.num, den: ins.den, isFuture: ins.isFuture })),
      accounts.map((a) => a.firm),
    );
    this.fees = new FeeSchedule(instruments.length);
    instruments.forEach((ins, i) => this.fees.set(i, { makerBps: ins.makerBps, takerBps: ins.takerBps, num: ins.num, den: ins.den }));
    // Opened last, so every other account keeps the id it has in a venue without replay.
    this.streetCashId = new Int32Array(currencies.length).fill(-1);
    this.streetSecId = Int32Array.from(instruments, (ins, i) => {
      if (ins.street !== true) return -1;
      const c = ins.currency;
      if (this.streetCashId[c] === -1) this.streetCashId[c] = L.openAccount(`street:${currencies[c]!.code}`, cashAsset[c]!, AccountKind.Asset);
      return L.openAccount(`street:${ins.symbol}`, secAsset[i]!, AccountKind.Asset);
    });
    // Opened after the street accounts, so the ids of every earlier account stay as they were.
    this.pendingSecId = new Int32Array(accounts.length * instruments.length).fill(-1);
    accounts.forEach((a, ai) => {
      instruments.forEach((ins, i) => {
        if (ins.isFuture) return;
        this.pendingSecId[ai * instruments.length + i] = L.openAccount(`${a.name}:${ins.symbol}:unsettled`, secAsset[i]!, AccountKind.Liability);
      });
    });
    this.settleSum = new Float64Array(accounts.length);
    this.receivable = new Float64Array(accounts.length);
    this.payable = new Float64Array(accounts.length);
    this.settleLots = new Float64Array(accounts.length * instruments.length);
    this.touched = new Int32Array(accounts.length);
    this.isTouched = new Uint8Array(accounts.length);
  }

  cashAvailableAccount(a: number): number {
    return this.availId[a]!;
  }
  cashHeldAccount(a: number): number {
    return this.heldId[a]!;
  }
  cashUnsettledAccount(a: number): number {
    return this.unsettledId[a]!;
  }
  /** `<acct>:SYM`: the settled holding (for a future: the whole position, never delivered). */
  securitiesAccount(a: number, instrument: number): number {
    return this.secId[a * this.nInstruments + instrument]!;
  }
  /** `<acct>:SYM:unsettled`: lots traded and not yet delivered; -1 for a future. */
  unsettledSecuritiesAccount(a: number, instrument: number): number {
    return this.pendingSecId[a * this.nInstruments + instrument]!;
  }
  bankAccount(currency: number): number {
    return this.bankId[currency]!;
  }
  feesAccount(currency: number): number {
    return this.feesId[currency]!;
  }
  clearingCashAccount(currency: number): number {
    return this.clearingCashId[currency]!;
  }
  clearingSecuritiesAccount(instrument: number): number {
    return this.clearingSecId[instrument]!;
  }
  custodyAccount(instrument: number): number {
    return this.custodyId[instrument]!;
  }
  /** `street:SYM` of a replayed instrument, -1 otherwise. */
  streetSecuritiesAccount(instrument: number): number {
    return this.streetSecId[instrument]!;
  }
  /** `street:CCY`, -1 when no replayed instrument trades in the currency. */
  streetCashAccount(currency: number): number {
    return this.streetCashId[currency]!;
  }

  deposit(tsNs: number, account: number, amountMinor: number): void {
    assert(amountMinor > 0, 'deposit must be positive');
    this.ledger.move(tsNs, TransferCode.Deposit, account, this.bankId[this.acctCurrency[account]!]!, this.availId[account]!, amountMinor);
    this.portfolio.onDeposit(account, amountMinor);
  }

  withdraw(tsNs: number, account: number, amountMinor: number): void {
    assert(amountMinor > 0, 'withdrawal must be positive');
    assert(this.ledger.normalBalance(this.availId[account]!) >= amountMinor, 'withdrawal exceeds available cash');
    this.ledger.move(tsNs, TransferCode.Withdrawal, account, this.availId[account]!, this.bankId[this.acctCurrency[account]!]!, amountMinor);
    this.portfolio.onDeposit(account, -amountMinor);
  }

  hold(tsNs: number, account: number, amountMinor: number): void {
    this.ledger.move(tsNs, TransferCode.Hold, account, this.availId[account]!, this.heldId[account]!, amountMinor);
  }

  release(tsNs: number, account: number, amountMinor: number): void {
    this.ledger.move(tsNs, TransferCode.Release, account, this.heldId[account]!, this.availId[account]!, amountMinor);
  }

  onTrade(tsNs: number, tradeId: number, instrument: number, takerAccount: number, makerAccount: number, takerSide: Side, priceTicks: number, sizeLots: number, takerOrderId = 0, makerOrderId = 0): void {
    this.nowNs = tsNs;
    this.bookTrade(tradeId, instrument, takerAccount, makerAccount, takerSide, priceTicks, sizeLots, takerOrderId, makerOrderId);
  }

  /** `onTrade` at virtual time `nowNs` (set it first). */
  bookTrade(tradeId: number, instrument: number, takerAccount: number, makerAccount: number, takerSide: Side, priceTicks: number, sizeLots: number, takerOrderId: number, makerOrderId: number): void {
    const tsNs = this.nowNs;
    assert(instrument >= 0 && instrument < this.nInstruments, 'clearing: unknown instrument in trade');
    assert(takerAccount >= 0 && takerAccount < this.nAccounts && makerAccount >= 0 && makerAccount < this.nAccounts, 'unknown account in trade');
    const cur = this.insCurrency[instrument]!;
    assert(this.acctCurrency[takerAccount] === cur && this.acctCurrency[makerAccount] === cur, 'trade in a currency the account does not hold');
    const buyer = takerSide === Side.Buy ? takerAccount : makerAccount;
    const seller = takerSide === Side.Buy ? makerAccount : takerAccount;
    const pf = this.portfolio;
    // The notional and the fees on it with no amount crossing a call (see MONEY_OUT).
    pf.notionalOut(instrument, priceTicks, sizeLots);
    const notional = MONEY_OUT[0]!;
    const takerFee = feeOnNotionalOut(this.fees.rateCentiBps(instrument, false));
    const makerFee = feeOnNotionalOut(this.fees.rateCentiBps(instrument, true));
    const buyerFee = takerSide === Side.Buy ? takerFee : makerFee;
    const sellerFee = takerSide === Side.Buy ? makerFee : takerFee;
    const cash = pf.isFuture(instrument) ? 0 : notional;
    const L = this.ledger;
    const clrSec = this.clearingSecId[instrument]!;
    const clrCash = this.clearingCashId[cur]!;
    const feesAcct = this.feesId[cur]!;
    const bU = this.unsettledId[buyer]!;
    const sU = this.unsettledId[seller]!;
    // Equities go to the unsettled holding until delivery; futures straight to the position.
    const bSec = this.deliverable(buyer, instrument);
    const sSec = this.deliverable(seller, instrument);
    L.nowNs = tsNs;
    L.beginNow(TransferCode.Trade, tradeId);
    // Credit-normal (liability) accounts: a credit (negative posting) increases the customer's
    // holding. Staged, not post()ed: a trade's cash crosses no call (see Ledger.stagedAmount).
    const acct = L.stagedAccount;
    const amt = L.stagedAmount;
    acct[0] = bSec; amt[0] = -sizeLots;
    acct[1] = clrSec; amt[1] = sizeLots;
    acct[2] = sSec; amt[2] = sizeLots;
    acct[3] = clrSec; amt[3] = -sizeLots;
    acct[4] = bU; amt[4] = cash;
    acct[5] = clrCash; amt[5] = -cash;
    acct[6] = sU; amt[6] = -cash;
    acct[7] = clrCash; amt[7] = cash;
    acct[8] = bU; amt[8] = buyerFee;
    acct[9] = sU; amt[9] = sellerFee;
    acct[10] = feesAcct; amt[10] = -(buyerFee + sellerFee);
    L.postStaged(11);
    L.commit();
    pf.onFill(buyer, instrument, Side.Buy, priceTicks, sizeLots, buyerFee);
    pf.onFill(seller, instrument, Side.Sell, priceTicks, sizeLots, sellerFee);
    this.lastTakerFeeMinor = takerFee;
    this.lastMakerFeeMinor = makerFee;
    const settleDay = this.settleDayNow();
    const delivered = pf.isFuture(instrument) ? 0 : sizeLots;
    // Not -delivered for a future's seller: -0 would leak into events as "-0".
    const out = delivered === 0 ? 0 : -delivered;
    // 0 - x, not -x: a future's zero cash must stay +0 (a -0 would print as "-0.00").
    const takerCash = takerSide === Side.Buy ? 0 - cash - buyerFee : cash - sellerFee;
    const makerCash = takerSide === Side.Buy ? cash - sellerFee : 0 - cash - buyerFee;
    const makerSide = takerSide === Side.Buy ? Side.Sell : Side.Buy;
    this.obligationCashMinor = takerCash;
    this.addObligation(takerAccount, instrument, takerSide, tradeId, takerOrderId, takerSide === Side.Buy ? delivered : out, settleDay);
    this.obligationCashMinor = makerCash;
    this.addObligation(makerAccount, instrument, makerSide, tradeId, makerOrderId, makerSide === Side.Buy ? delivered : out, settleDay);
    this.lastTakerCashMinor = takerCash;
    this.lastMakerCashMinor = makerCash;
    this.lastSettleDay = settleDay;
  }

  /** Where a trade's lots go: the unsettled holding of an equity, the position of a future. */
  private deliverable(account: number, instrument: number): number {
    const k = account * this.nInstruments + instrument;
    const pending = this.pendingSecId[k]!;
    return pending >= 0 ? pending : this.secId[k]!;
  }

  /**
   * An own fill against the recorded market. One transfer: the account's securities and
   * unsettled cash move exactly as in `onTrade`; the recorded market's side goes to
   * `street:SYM` (lots delivered to / received from the market) and `street:CCY` (what the
   * venue owes the market (-) or is owed (+)); the fee, maker or taker by how the order met
   * the market, to fees. The account's cash settles T+N like any trade; the street
   * balances are not settled (the recorded market has no bank in the simulation).
   */
  onStreetFill(tsNs: number, tradeId: number, instrument: number, account: number, side: Side, priceTicks: number, sizeLots: number, maker: boolean, orderId = 0): void {
    this.nowNs = tsNs;
    this.bookStreetFill(tradeId, instrument, account, side, priceTicks, sizeLots, maker, orderId);
  }

  /** `onStreetFill` at virtual time `nowNs` (set it first). */
  bookStreetFill(tradeId: number, instrument: number, account: number, side: Side, priceTicks: number, sizeLots: number, maker: boolean, orderId: number): void {
    const tsNs = this.nowNs;
    const streetSec = this.streetSecId[instrument]!;
    if (streetSec < 0) throw new InvariantError('clearing: a street fill on an instrument that is not replayed');
    if (!(account >= 0 && account < this.nAccounts)) throw new InvariantError('clearing: unknown account in a street fill');
    const cur = this.insCurrency[instrument]!;
    if (this.acctCurrency[account] !== cur) throw new InvariantError('clearing: street fill in a currency the account does not hold');
    const pf = this.portfolio;
    pf.notionalOut(instrument, priceTicks, sizeLots);
    const notional = MONEY_OUT[0]!;
    const fee = feeOnNotionalOut(this.fees.rateCentiBps(instrument, maker));
    const cash = pf.isFuture(instrument) ? 0 : notional;
    const buy = side === Side.Buy;
    const lots = buy ? sizeLots : -sizeLots;
    const signedCash = buy ? cash : -cash;
    const L = this.ledger;
    const u = this.unsettledId[account]!;
    L.nowNs = tsNs;
    L.beginNow(TransferCode.Trade, tradeId);
    // Staged, not post()ed: the fill's cash crosses no call (see Ledger.stagedAmount).
    const acct = L.stagedAccount;
    const amt = L.stagedAmount;
    acct[0] = this.deliverable(account, instrument); amt[0] = -lots;
    acct[1] = streetSec; amt[1] = lots;
    acct[2] = u; amt[2] = signedCash;
    acct[3] = this.streetCashId[cur]!; amt[3] = -signedCash;
    acct[4] = u; amt[4] = fee;
    acct[5] = this.feesId[cur]!; amt[5] = -fee;
    L.postStaged(6);
    L.commit();
    pf.onFill(account, instrument, side, priceTicks, sizeLots, fee);
    this.lastStreetFeeMinor = fee;
    const settleDay = this.settleDayNow();
    const delivered = pf.isFuture(instrument) ? 0 : lots;
    this.lastStreetCashMinor = 0 - signedCash - fee;
    this.lastSettleDay = settleDay;
    this.obligationCashMinor = this.lastStreetCashMinor;
    this.addObligation(account, instrument, side, tradeId, orderId, delivered, settleDay);
  }

  /** The settlement day of a trade at `nowNs`: memoised per trade day (see memoDayStartNs). */
  private settleDayNow(): number {
    const ts = this.nowNs;
    if (!(ts >= this.memoDayStartNs && ts < this.memoDayEndNs)) {
      const day = dayOfTs(this.scenarioDay, ts);
      this.memoDayStartNs = tsOfDay(this.scenarioDay, day);
      this.memoDayEndNs = this.memoDayStartNs + NS_PER_DAY;
      this.memoSettleDay = this.calendar.settlementDay(day, this.settlementLagDays);
    }
    return this.memoSettleDay;
  }

  /** One side of a trade to settle on `settleDay`: `lots` delivered (+) or out (-), and `obligationCashMinor` received (+) or paid (-). */
  private addObligation(account: number, instrument: number, side: Side, tradeId: number, orderId: number, lots: number, settleDay: number): void {
    const amount = this.obligationCashMinor;
    let t = this.oTail;
    if (t === this.oAccount.length) {
      const live = t - this.oHead;
      // Compact before growing: the settled prefix is dead.
      const n = this.oHead > 0 && live < this.oAccount.length / 2 ? this.oAccount.length : this.oAccount.length * 2;
      if (n > OBLIGATIONS_MAX) throw new InvariantError('too many unsettled obligations');
      this.oAccount = moveLive(this.oAccount, this.oHead, t, n);
      this.oInstrument = moveLive(this.oInstrument, this.oHead, t, n);
      this.oSide = moveLive(this.oSide, this.oHead, t, n);
      this.oTrade = moveLive(this.oTrade, this.oHead, t, n);
      this.oOrder = moveLive(this.oOrder, this.oHead, t, n);
      this.oLots = moveLive(this.oLots, this.oHead, t, n);
      this.oAmount = moveLive(this.oAmount, this.oHead, t, n);
      this.oDay = moveLive(this.oDay, this.oHead, t, n);
      this.oHead = 0;
      this.oTail = t = live;
    }
    if (!(t === this.oHead || this.oDay[t - 1]! <= settleDay)) throw new InvariantError('settlement days must not decrease');
    this.oAccount[t] = account;
    this.oInstrument[t] = instrument;
    this.oSide[t] = side;
    this.oTrade[t] = tradeId;
    this.oOrder[t] = orderId;
    this.oLots[t] = lots;
    this.oAmount[t] = amount;
    this.oDay[t] = settleDay;
    this.oTail = t + 1;
    if (amount > 0) this.receivable[account] += amount;
    else this.payable[account] -= amount;
  }

  /** Obligations not yet settled. */
  get pendingObligations(): number {
    return this.oTail - this.oHead;
  }

  /**
   * Settle everything due on or before `day`: one Settlement transfer (ref = day) per account
   * with anything to move, holding its net cash (unsettled to available) and, per instrument,
   * its net lots (unsettled holding to settled holding). Then `visit` sees each trade side settled.
   */
  settle(tsNs: number, day: number, visit?: SettledItemVisitor): number {
    let nTouched = 0;
    let h = this.oHead;
    const nI = this.nInstruments;
    while (h < this.oTail && this.oDay[h]! <= day) {
      const a = this.oAccount[h]!;
      if (this.isTouched[a] === 0) {
        this.isTouched[a] = 1;
        this.touched[nTouched++] = a;
      }
      const amount = this.oAmount[h]!;
      this.settleSum[a] += amount;
      if (amount > 0) this.receivable[a] -= amount;
      else this.payable[a] += amount;
      this.settleLots[a * nI + this.oInstrument[h]!] += this.oLots[h]!;
      h++;
    }
    const first = this.oHead;
    const settled = h - first;
    this.oHead = h;
    const L = this.ledger;
    for (let k = 0; k < nTouched; k++) {
      const a = this.touched[k]!;
      const amount = this.settleSum[a]!;
      this.settleSum[a] = 0;
      this.isTouched[a] = 0;
      let any = amount !== 0;
      for (let i = 0; i < nI && !any; i++) any = this.settleLots[a * nI + i] !== 0;
      if (!any) continue;
      L.begin(tsNs, TransferCode.Settlement, day);
      if (amount !== 0) {
        // Receivable X: unsettled (liability) goes down by X, available up by X.
        L.post(this.unsettledId[a]!, amount);
        L.post(this.availId[a]!, -amount);
      }
      for (let i = 0; i < nI; i++) {
        const lots = this.settleLots[a * nI + i]!;
        if (lots === 0) continue;
        this.settleLots[a * nI + i] = 0;
        // Received X lots: the unsettled holding goes down by X, the settled holding up by X.
        L.post(this.pendingSecId[a * nI + i]!, lots);
        L.post(this.secId[a * nI + i]!, -lots);
      }
      L.commit();
    }
    // After the transfers, so whoever is told a trade settled finds it settled on the ledger.
    // Nothing is queued in between, so the settled range is still intact.
    if (visit !== undefined) {
      for (let k = first; k < h; k++) visit(this.oAccount[k]!, this.oInstrument[k]!, this.oTrade[k]!, this.oOrder[k]!, this.oSide[k] as Side, this.oLots[k]!, this.oAmount[k]!);
    }
    return settled;
  }

  variationMargin(tsNs: number, account: number, instrument: number, markTicks: number): number {
    const amount = this.portfolio.applyVariationMargin(account, instrument, markTicks);
    if (amount !== 0) {
      this.ledger.move(tsNs, TransferCode.VariationMargin, instrument, this.clearingCashId[this.insCurrency[instrument]!]!, this.availId[account]!, amount);
    }
    return amount;
  }

  settledCashMinor(a: number): number {
    return this.ledger.normalBalance(this.availId[a]!) + this.ledger.normalBalance(this.heldId[a]!);
  }

  unsettledCashMinor(a: number): number {
    return this.ledger.normalBalance(this.unsettledId[a]!);
  }

  /** What the account's unsettled trade sides will pay it on their settlement days (>= 0). */
  unsettledReceivableMinor(a: number): number {
    return this.receivable[a]!;
  }

  /** What the account will pay on its unsettled trade sides' settlement days (>= 0). */
  unsettledPayableMinor(a: number): number {
    return this.payable[a]!;
  }

  cashMinor(a: number): number {
    return this.settledCashMinor(a) + this.unsettledCashMinor(a);
  }

  /** Ledger position in lots, settled + unsettled (equals the portfolio's). */
  positionLots(a: number, instrument: number): number {
    return this.settledLots(a, instrument) + this.unsettledLots(a, instrument);
  }

  /** Lots delivered to the account (short: delivered out of it), from its `<acct>:SYM`. */
  settledLots(a: number, instrument: number): number {
    return this.ledger.normalBalance(this.secId[a * this.nInstruments + instrument]!);
  }

  /** Lots bought (+) or sold (-) and not yet delivered; 0 for futures. */
  unsettledLots(a: number, instrument: number): number {
    const id = this.pendingSecId[a * this.nInstruments + instrument]!;
    return id < 0 ? 0 : this.ledger.normalBalance(id);
  }

  /**
   * Risk's buying-power check of a cash account: whether its settled cash, plus
   * `unsettledUseBps` of its unsettled receivables (rounded down), less its unsettled payables,
   * is at least `amount.minor`. Compared here, where the balances are read, and the amount by
   * reference (see MinorAmount): neither crosses a call.
   */
  buyingPowerCovers(a: number, unsettledUseBps: number, amount: Readonly<MinorAmount>): boolean {
    const L = this.ledger;
    const recv = this.receivable[a]!;
    // Split at the divisor (rateBpsFloor): recv * bps passes 2^53, where the float product is no
    // longer exact, from receivables of ~9e11 minor units at 100%.
    const usable = recv > 0 ? rateBpsFloor(recv, unsettledUseBps) : 0;
    return L.normalBalance(this.availId[a]!) + L.normalBalance(this.heldId[a]!) + usable - this.payable[a]! >= amount.minor;
  }

  equityMinor(a: number, marks: ArrayLike<number>): number {
    return this.cashMinor(a) + this.portfolio.positionsValueMinor(a, marks);
  }
}

/** A typed array of capacity `n` holding `src[head, tail)` from index 0. */
function moveLive<T extends Int32Array | Uint8Array | Float64Array>(src: T, head: number, tail: number, n: number): T {
  if (n === src.length) {
    src.copyWithin(0, head, tail);
    return src;
  }
  const out = new (src.constructor as new (k: number) => T)(n);
  out.set(src.subarray(head, tail));
  return out;
}
