/**
 * Positions and P&L per account and instrument, aggregated to firms; all integer minor units.
 *
 * Realized P&L uses the average-cost method. Each position keeps its total cost
 * `costMinor` (signed like the position: a long costs +, a short's proceeds are -), never an
 * average price, so no rounding accumulates:
 * - a fill that opens or adds: position += d, cost += V, where V = +notional for a buy, -notional for a sell;
 * - a fill that reduces: the closed quantity q takes cost * q / |position| out of the cost
 *   (rounded toward zero; the remainder stays in the cost and leaves it when the position
 *   reaches zero, which removes all remaining cost), realized += -(removed + V_closing);
 * - a fill that flips the sign closes the whole position first, then opens the rest; its
 *   notional is split between the two parts as V_closing = trunc(V * closed / filled), the rest opening.
 * Average price for display = cost / position (in minor units per lot), computed only at the edges.
 *
 * Unrealized P&L at a mark = markValue - cost, with markValue = sign(position) * notional(mark, |position|).
 * The caller chooses the mark (last trade, mid, or a mark feed) and passes marks by instrument.
 *
 * Futures: a trade moves no cash; P&L reaches cash by daily variation margin. `vmBasis` is the
 * value the account has been paid (or has paid) up to: it moves with V on each fill like the
 * cost, and `applyVariationMargin` resets it to the mark value. For both kinds:
 *   equity = cash + sum(markValue) - sum(vmBasis of futures)
 *          = netDeposits + realized + unrealized - fees          (per account, exactly)
 *
 * API (account and instrument are dense indices; O(1), no allocation, unless noted)
 * - `new Portfolio(accountCount, instruments: PortfolioInstrument[], firmOfAccount: ArrayLike<number>)`
 * - `onFill(account, instrument, side, priceTicks, sizeLots, feeMinor)`; `onDeposit(account, amountMinor)`
 * - `cashFlowOfFill(instrument, side, priceTicks, sizeLots)`: what a fill does to cash before fees (futures: 0)
 * - readers: `position`, `costMinor`, `realizedMinor`, `feesMinor`, `vmBasisMinor`, `markValueMinor(a, i, mark)`,
 *   `unrealizedMinor(a, i, mark)`, `variationMarginDue(a, i, mark)`, `netDepositsMinor(a)`
 * - `applyVariationMargin(a, i, mark)` -> amount credited to cash (negative = paid)
 * - per account (O(instruments)): `accountRealizedMinor`, `accountFeesMinor`, `accountUnrealizedMinor(a, marks)`,
 *   `accountPnlMinor(a, marks)`, `accountEquityMinor(a, marks)` (from P&L), `grossMarkValueMinor(a, marks)`
 * - firms (O(accounts)): `firmPosition(f, i)`, `firmPnlMinor(f, marks)`, `accountsOfFirm(f)`
 * - `snapshot(day, marks)`: appends one `PnlRow` per account to `history` (daily P&L history) and returns them.
 */
import { assert, assertSafeInt } from './assert.js';
import { MONEY_OUT, mulDivTrunc, notionalMinor, notionalOut } from './money.js';
import { Side } from './types.js';

export interface PortfolioInstrument {
  /** Notional rule (engine/money.ts). */
  readonly num: number;
  readonly den: number;
  /** Futures settle P&L by variation margin; trades move no cash. */
  readonly isFuture: boolean;
}

export interface PnlRow {
  readonly day: number;
  readonly account: number;
  readonly firm: number;
  readonly realizedMinor: number;
  readonly unrealizedMinor: number;
  readonly feesMinor: number;
  /** realized + unrealized - fees, since the start of the run. */
  readonly totalMinor: number;
  /** totalMinor minus the previous snapshot's totalMinor (the day's P&L). */
  readonly dayMinor: number;
}

export class Portfolio {
  readonly instrumentCount: number;
  private readonly num: Float64Array;
  private readonly den: Float64Array;
  private readonly future: Uint8Array;
  private readonly firm: Int32Array;
  readonly firmCount: number;
  private readonly pos: Float64Array;
  private readonly cost: Float64Array;
  private readonly realized: Float64Array;
  private readonly fees: Float64Array;
  private readonly vmBasis: Float64Array;
  private readonly deposits: Float64Array;
  private readonly lastTotal: Float64Array;
  readonly history: PnlRow[] = [];

  constructor(
    readonly accountCount: number,
    instruments: readonly PortfolioInstrument[],
    firmOfAccount: ArrayLike<number>,
  ) {
    assert(firmOfAccount.length === accountCount, 'firmOfAccount must name a firm for every account');
    const n = instruments.length;
    this.instrumentCount = n;
    this.num = new Float64Array(n);
    this.den = new Float64Array(n);
    this.future = new Uint8Array(n);
    instruments.forEach((ins, i) => {
      assert(ins.num > 0 && ins.den > 0, `instrument ${i}: bad notional rule`);
      this.num[i] = ins.num;
      this.den[i] = ins.den;
      this.future[i] = ins.isFuture ? 1 : 0;
    });
    this.firm = Int32Array.from(firmOfAccount);
    let firms = 0;
    for (let a = 0; a < accountCount; a++) {
      assert(this.firm[a]! >= 0, `account ${a}: firm must be >= 0`);
      firms = Math.max(firms, this.firm[a]! + 1);
    }
    this.firmCount = firms;
    const cells = accountCount * n;
    this.pos = new Float64Array(cells);
    this.cost = new Float64Array(cells);
    this.realized = new Float64Array(cells);
    this.fees = new Float64Array(cells);
    this.vmBasis = new Float64Array(cells);
    this.deposits = new Float64Array(accountCount);
    this.lastTotal = new Float64Array(accountCount);
  }

  firmOf(account: number): number {
    return this.firm[account]!;
  }

  isFuture(instrument: number): boolean {
    return this.future[instrument] === 1;
  }

  notional(instrument: number, priceTicks: number, sizeLots: number): number {
    return notionalMinor(priceTicks, sizeLots, this.num[instrument]!, this.den[instrument]!);
  }

  /** `notional(…)` into MONEY_OUT[0] (engine/money.ts), for the hot paths: no amount is returned. */
  notionalOut(instrument: number, priceTicks: number, sizeLots: number): void {
    notionalOut(priceTicks, sizeLots, this.num[instrument]!, this.den[instrument]!);
  }

  /** Cash effect of a fill before fees: a buy pays notional, a sell receives it; futures move no cash. */
  cashFlowOfFill(instrument: number, side: Side, priceTicks: number, sizeLots: number): number {
    if (this.future[instrument] === 1) return 0;
    const n = this.notional(instrument, priceTicks, sizeLots);
    return side === Side.Buy ? -n : n;
  }

  onDeposit(account: number, amountMinor: number): void {
    assertSafeInt(amountMinor, 'deposit');
    this.deposits[account] += amountMinor;
  }

  onFill(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number, feeMinor: number): void {
    assert(sizeLots > 0 && priceTicks > 0, 'fill needs a positive price and size');
    assertSafeInt(feeMinor, 'fee');
    const k = account * this.instrumentCount + instrument;
    this.notionalOut(instrument, priceTicks, sizeLots);
    const n = MONEY_OUT[0]!;
    const d = side === Side.Buy ? sizeLots : -sizeLots;
    const v = side === Side.Buy ? n : -n;
    const p = this.pos[k]!;
    const c = this.cost[k]!;
    this.fees[k] += feeMinor;
    this.vmBasis[k] += v;
    if (p === 0 || p > 0 === d > 0) {
      this.pos[k] = p + d;
      this.cost[k] = c + v;
      return;
    }
    const absP = p > 0 ? p : -p;
    const closed = sizeLots < absP ? sizeLots : absP;
    // mulDivTrunc written out on its safe path: the cost and value are amounts, and passed to a
    // call V8 does not inline they would be boxed (see mulDivTrunc).
    const pc = c * closed;
    const pv = v * closed;
    const removed = closed === absP ? c : Number.isSafeInteger(pc) ? Math.trunc(pc / absP) + 0 : mulDivTrunc(c, closed, absP);
    const vClose = closed === sizeLots ? v : Number.isSafeInteger(pv) ? Math.trunc(pv / sizeLots) + 0 : mulDivTrunc(v, closed, sizeLots);
    this.realized[k] += -(removed + vClose);
    this.pos[k] = p + d;
    this.cost[k] = c - removed + (v - vClose);
    assert(this.pos[k] !== 0 || this.cost[k] === 0, 'flat position must carry no cost');
  }

  position(account: number, instrument: number): number {
    return this.pos[account * this.instrumentCount + instrument]!;
  }
  costMinor(account: number, instrument: number): number {
    return this.cost[account * this.instrumentCount + instrument]!;
  }
  realizedMinor(account: number, instrument: number): number {
    return this.realized[account * this.instrumentCount + instrument]!;
  }
  feesMinor(account: number, instrument: number): number {
    return this.fees[account * this.instrumentCount + instrument]!;
  }
  vmBasisMinor(account: number, instrument: number): number {
    return this.future[instrument] === 1 ? this.vmBasis[account * this.instrumentCount + instrument]! : 0;
  }
  netDepositsMinor(account: number): number {
    return this.deposits[account]!;
  }

  markValueMinor(account: number, instrument: number, markTicks: number): number {
    const p = this.pos[account * this.instrumentCount + instrument]!;
    if (p === 0) return 0;
    const v = this.notional(instrument, markTicks, p > 0 ? p : -p);
    return p > 0 ? v : -v;
  }

  unrealizedMinor(account: number, instrument: number, markTicks: number): number {
    return this.markValueMinor(account, instrument, markTicks) - this.costMinor(account, instrument);
  }

  variationMarginDue(account: number, instrument: number, markTicks: number): number {
    if (this.future[instrument] !== 1) return 0;
    return this.markValueMinor(account, instrument, markTicks) - this.vmBasis[account * this.instrumentCount + instrument]!;
  }

  /** Settles a future's P&L up to the mark: returns the cash the account receives (negative: pays). */
  applyVariationMargin(account: number, instrument: number, markTicks: number): number {
    const due = this.variationMarginDue(account, instrument, markTicks);
    if (this.future[instrument] === 1) this.vmBasis[account * this.instrumentCount + instrument] += due;
    return due;
  }

  accountRealizedMinor(account: number): number {
    let s = 0;
    for (let i = 0, k = account * this.instrumentCount; i < this.instrumentCount; i++, k++) s += this.realized[k]!;
    return s;
  }

  accountFeesMinor(account: number): number {
    let s = 0;
    for (let i = 0, k = account * this.instrumentCount; i < this.instrumentCount; i++, k++) s += this.fees[k]!;
    return s;
  }

  accountUnrealizedMinor(account: number, marks: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.instrumentCount; i++) s += this.unrealizedMinor(account, i, marks[i]!);
    return s;
  }

  accountPnlMinor(account: number, marks: ArrayLike<number>): number {
    return this.accountRealizedMinor(account) + this.accountUnrealizedMinor(account, marks) - this.accountFeesMinor(account);
  }

  /** Equity from P&L: net deposits + realized + unrealized - fees. */
  accountEquityMinor(account: number, marks: ArrayLike<number>): number {
    return this.deposits[account]! + this.accountPnlMinor(account, marks);
  }

  /** Sum of markValue - vmBasis: what positions add to cash to make equity. */
  positionsValueMinor(account: number, marks: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.instrumentCount; i++) {
      s += this.markValueMinor(account, i, marks[i]!) - this.vmBasisMinor(account, i);
    }
    return s;
  }

  /** Sum of |markValue| over instruments (gross exposure at the marks). */
  grossMarkValueMinor(account: number, marks: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.instrumentCount; i++) s += Math.abs(this.markValueMinor(account, i, marks[i]!));
    return s;
  }

  accountsOfFirm(firm: number): number[] {
    const out: number[] = [];
    for (let a = 0; a < this.accountCount; a++) if (this.firm[a] === firm) out.push(a);
    return out;
  }

  firmPosition(firm: number, instrument: number): number {
    let s = 0;
    for (let a = 0; a < this.accountCount; a++) if (this.firm[a] === firm) s += this.position(a, instrument);
    return s;
  }

  firmPnlMinor(firm: number, marks: ArrayLike<number>): number {
    let s = 0;
    for (let a = 0; a < this.accountCount; a++) if (this.firm[a] === firm) s += this.accountPnlMinor(a, marks);
    return s;
  }

  snapshot(day: number, marks: ArrayLike<number>): PnlRow[] {
    const rows: PnlRow[] = [];
    for (let a = 0; a < this.accountCount; a++) {
      const realizedMinor = this.accountRealizedMinor(a);
      const unrealizedMinor = this.accountUnrealizedMinor(a, marks);
      const feesMinor = this.accountFeesMinor(a);
      const totalMinor = realizedMinor + unrealizedMinor - feesMinor;
      const row: PnlRow = { day, account: a, firm: this.firm[a]!, realizedMinor, unrealizedMinor, feesMinor, totalMinor, dayMinor: totalMinor - this.lastTotal[a]! };
      this.lastTotal[a] = totalMinor;
      rows.push(row);
      this.history.push(row);
    }
    return rows;
  }
}
