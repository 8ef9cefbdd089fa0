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
 * A trade is ONE transfer: buyer's securities +lots and seller's -lots against clearingSec;
 * for equities the buyer's unsettled cash -notional and the seller's +notional against
 * clearingCash; each side's fee from its unsettled cash to feesRevenue (a rebate the other way).
 * On the settlement day (T+N business days, engine/calendar.ts) one Settlement transfer per
 * account moves the net of that day's trades from unsettled to available.
 *
 * API
 * - `new Clearing(config)`; `ledger`, `portfolio`, `fees` are public.
 * - `deposit(tsNs, account, amountMinor)`, `withdraw(tsNs, account, amountMinor)`.
 * - `onTrade(tsNs, tradeId, instrument, takerAccount, makerAccount, takerSide, priceTicks, sizeLots)`:
 *   fees from the schedule (taker/maker); `lastTakerFeeMinor`, `lastMakerFeeMinor` hold what was charged.
 * - `onStreetFill(tsNs, tradeId, instrument, account, side, priceTicks, sizeLots, maker)`: an own
 *   fill against a recorded market (replayed instrument): the account's legs as in a trade, the
 *   other side on the street accounts; `lastStreetFeeMinor` holds the fee charged.
 * - `settle(tsNs, day)`: settles every obligation due on or before `day` (epoch day); returns the count.
 * - `hold(tsNs, account, amountMinor)` / `release(...)`: optional mirror of order reservations.
 * - `variationMargin(tsNs, account, instrument, markTicks)`: pays/collects a future's VM in available cash.
 * - views: `settledCashMinor(a)` (available + held), `unsettledCashMinor(a)`, `cashMinor(a)`,
 *   `equityMinor(a, marks)` = cash + sum(markValue) - sum(futures vmBasis).
 */
import { assert, InvariantError } from './assert.js';
import type { BusinessCalendar } from './calendar.js';
import { dayOfTs } from './calendar.js';
import { FeeSchedule } from './fees.js';
import { AccountKind, Ledger, TransferCode } from './ledger.js';
import type { Currency } from './money.js';
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

  // Obligations queue: settle days never decrease along the queue, because trade days do not.
  private oAccount = new Int32Array(1024);
  private oAmount = new Float64Array(1024);
  private oDay = new Float64Array(1024);
  private oHead = 0;
  private oTail = 0;
  private readonly settleSum: Float64Array;
  private readonly touched: Int32Array;
  private readonly isTouched: Uint8Array;
  /** Memo of the last trade day's settlement day: the calendar walk runs once per day, not per trade. */
  private memoTradeDay = Number.NaN;
  private memoSettleDay = 0;

  lastTakerFeeMinor = 0;
  lastMakerFeeMinor = 0;
  lastStreetFeeMinor = 0;
  /** Per instrument: `street:SYM`, or -1 when the instrument is not replayed. */
  private readonly streetSecId: Int32Array;
  /** Per currency: `street:CCY`, or -1 when no replayed instrument trades in it. */
  private readonly streetCashId: Int32Array;

  constructor(config: ClearingConfig) {
    const { currencies, instruments, accounts } = config;
    this.calendar = config.calendar;
    this.scenarioDay = config.scenarioDay;
    this.settlementLagDays = config.settlementLagDays ?? 1;
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
    this.settleSum = new Float64Array(accounts.length);
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
  securitiesAccount(a: number, instrument: number): number {
    return this.secId[a * this.nInstruments + instrument]!;
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

  onTrade(tsNs: number, tradeId: number, instrument: number, takerAccount: number, makerAccount: number, takerSide: Side, priceTicks: number, sizeLots: number): void {
    assert(instrument >= 0 && instrument < this.nInstruments, 'clearing: unknown instrument in trade');
    assert(takerAccount >= 0 && takerAccount < this.nAccounts && makerAccount >= 0 && makerAccount < this.nAccounts, 'unknown account in trade');
    const cur = this.insCurrency[instrument]!;
    assert(this.acctCurrency[takerAccount] === cur && this.acctCurrency[makerAccount] === cur, 'trade in a currency the account does not hold');
    const buyer = takerSide === Side.Buy ? takerAccount : makerAccount;
    const seller = takerSide === Side.Buy ? makerAccount : takerAccount;
    const pf = this.portfolio;
    const notional = pf.notional(instrument, priceTicks, sizeLots);
    const takerFee = this.fees.feeOnNotional(instrument, false, notional);
    const makerFee = this.fees.feeOnNotional(instrument, true, notional);
    const buyerFee = takerSide === Side.Buy ? takerFee : makerFee;
    const sellerFee = takerSide === Side.Buy ? makerFee : takerFee;
    const cash = pf.isFuture(instrument) ? 0 : notional;
    const L = this.ledger;
    const clrSec = this.clearingSecId[instrument]!;
    const clrCash = this.clearingCashId[cur]!;
    const feesAcct = this.feesId[cur]!;
    const bU = this.unsettledId[buyer]!;
    const sU = this.unsettledId[seller]!;
    L.begin(tsNs, TransferCode.Trade, tradeId);
    // Credit-normal (liability) accounts: a credit (negative posting) increases the customer's holding.
    L.post(this.secId[buyer * this.nInstruments + instrument]!, -sizeLots);
    L.post(clrSec, sizeLots);
    L.post(this.secId[seller * this.nInstruments + instrument]!, sizeLots);
    L.post(clrSec, -sizeLots);
    L.post(bU, cash);
    L.post(clrCash, -cash);
    L.post(sU, -cash);
    L.post(clrCash, cash);
    L.post(bU, buyerFee);
    L.post(sU, sellerFee);
    L.post(feesAcct, -(buyerFee + sellerFee));
    L.commit();
    pf.onFill(buyer, instrument, Side.Buy, priceTicks, sizeLots, buyerFee);
    pf.onFill(seller, instrument, Side.Sell, priceTicks, sizeLots, sellerFee);
    this.lastTakerFeeMinor = takerFee;
    this.lastMakerFeeMinor = makerFee;
    const day = dayOfTs(this.scenarioDay, tsNs);
    if (day !== this.memoTradeDay) {
      this.memoTradeDay = day;
      this.memoSettleDay = this.calendar.settlementDay(day, this.settlementLagDays);
    }
    this.addObligation(buyer, -cash - buyerFee, this.memoSettleDay);
    this.addObligation(seller, cash - sellerFee, this.memoSettleDay);
  }

  /**
   * An own fill against the recorded market. One transfer: the account's securities and
   * unsettled cash move exactly as in `onTrade`; the recorded market's side goes to
   * `street:SYM` (lots delivered to / received from the market) and `street:CCY` (what the
   * venue owes the market (-) or is owed (+)); the fee, maker or taker by how the order met
   * the market, to fees. The account's cash settles T+N like any trade; the street
   * balances are not settled (the recorded market has no bank in the simulation).
   */
  onStreetFill(tsNs: number, tradeId: number, instrument: number, account: number, side: Side, priceTicks: number, sizeLots: number, maker: boolean): void {
    const streetSec = this.streetSecId[instrument]!;
    if (streetSec < 0) throw new InvariantError('clearing: a street fill on an instrument that is not replayed');
    if (!(account >= 0 && account < this.nAccounts)) throw new InvariantError('clearing: unknown account in a street fill');
    const cur = this.insCurrency[instrument]!;
    if (this.acctCurrency[account] !== cur) throw new InvariantError('clearing: street fill in a currency the account does not hold');
    const pf = this.portfolio;
    const notional = pf.notional(instrument, priceTicks, sizeLots);
    const fee = this.fees.feeOnNotional(instrument, maker, notional);
    const cash = pf.isFuture(instrument) ? 0 : notional;
    const buy = side === Side.Buy;
    const lots = buy ? sizeLots : -sizeLots;
    const signedCash = buy ? cash : -cash;
    const L = this.ledger;
    const u = this.unsettledId[account]!;
    L.begin(tsNs, TransferCode.Trade, tradeId);
    L.post(this.secId[account * this.nInstruments + instrument]!, -lots);
    L.post(streetSec, lots);
    L.post(u, signedCash);
    L.post(this.streetCashId[cur]!, -signedCash);
    L.post(u, fee);
    L.post(this.feesId[cur]!, -fee);
    L.commit();
    pf.onFill(account, instrument, side, priceTicks, sizeLots, fee);
    this.lastStreetFeeMinor = fee;
    const day = dayOfTs(this.scenarioDay, tsNs);
    if (day !== this.memoTradeDay) {
      this.memoTradeDay = day;
      this.memoSettleDay = this.calendar.settlementDay(day, this.settlementLagDays);
    }
    this.addObligation(account, -signedCash - fee, this.memoSettleDay);
  }

  private addObligation(account: number, amount: number, settleDay: number): void {
    if (amount === 0) return;
    let t = this.oTail;
    if (t === this.oAccount.length) {
      // Compact before growing: the settled prefix is dead.
      const live = t - this.oHead;
      if (this.oHead > 0 && live < this.oAccount.length / 2) {
        this.oAccount.copyWithin(0, this.oHead, t);
        this.oAmount.copyWithin(0, this.oHead, t);
        this.oDay.copyWithin(0, this.oHead, t);
      } else {
        assert(this.oAccount.length * 2 <= OBLIGATIONS_MAX, 'too many unsettled obligations');
        const n = this.oAccount.length * 2;
        const a = new Int32Array(n);
        a.set(this.oAccount.subarray(this.oHead, t));
        const m = new Float64Array(n);
        m.set(this.oAmount.subarray(this.oHead, t));
        const d = new Float64Array(n);
        d.set(this.oDay.subarray(this.oHead, t));
        this.oAccount = a;
        this.oAmount = m;
        this.oDay = d;
      }
      this.oHead = 0;
      this.oTail = t = live;
    }
    assert(t === this.oHead || this.oDay[t - 1]! <= settleDay, 'settlement days must not decrease');
    this.oAccount[t] = account;
    this.oAmount[t] = amount;
    this.oDay[t] = settleDay;
    this.oTail = t + 1;
  }

  /** Obligations not yet settled. */
  get pendingObligations(): number {
    return this.oTail - this.oHead;
  }

  /** Settle everything due on or before `day`: one transfer per account with a non-zero net. */
  settle(tsNs: number, day: number): number {
    let nTouched = 0;
    let h = this.oHead;
    while (h < this.oTail && this.oDay[h]! <= day) {
      const a = this.oAccount[h]!;
      if (this.isTouched[a] === 0) {
        this.isTouched[a] = 1;
        this.touched[nTouched++] = a;
      }
      this.settleSum[a] += this.oAmount[h]!;
      h++;
    }
    const settled = h - this.oHead;
    this.oHead = h;
    for (let k = 0; k < nTouched; k++) {
      const a = this.touched[k]!;
      const amount = this.settleSum[a]!;
      this.settleSum[a] = 0;
      this.isTouched[a] = 0;
      if (amount === 0) continue;
      // Receivable X: unsettled (liability) goes down by X, available up by X.
      this.ledger.move(tsNs, TransferCode.Settlement, day, this.unsettledId[a]!, this.availId[a]!, amount);
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

  cashMinor(a: number): number {
    return this.settledCashMinor(a) + this.unsettledCashMinor(a);
  }

  /** Ledger position in lots (equals the portfolio's). */
  positionLots(a: number, instrument: number): number {
    return this.ledger.normalBalance(this.secId[a * this.nInstruments + instrument]!);
  }

  equityMinor(a: number, marks: ArrayLike<number>): number {
    return this.cashMinor(a) + this.portfolio.positionsValueMinor(a, marks);
  }
}
