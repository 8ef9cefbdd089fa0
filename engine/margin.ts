/**
 * Margin: requirements, excess and deficit, margin calls, and a liquidation planner.
 *
 * Two styles, per instrument (`MarginTerms`):
 * - Equities, Reg T: requirement = ceil(|markValue| * rate), initial 50% and maintenance
 *   25% by default (`initialBps` 5000, `maintenanceBps` 2500); longs and shorts alike.
 * - Futures: a fixed amount per contract (lot), initial and maintenance; P&L is paid
 *   daily as variation margin (Clearing.variationMargin), so the cash already holds it.
 *
 * equity = cash + sum(markValue) - sum(futures vmBasis)    (Clearing.equityMinor)
 * excess = equity - maintenance requirement; a negative excess is a deficit.
 * `needsLiquidation`: equity < maintenance requirement (intraday, at the caller's marks).
 * `marginCallMinor` (end of day): when equity < maintenance, the call is what brings equity
 * back to the INITIAL requirement (the futures convention, and the conservative one for Reg T).
 *
 * Liquidation plan, largest position first: positions are ordered by their maintenance
 * requirement (ties: lower instrument index), and each is reduced by the fewest lots whose
 * release of requirement covers what is still missing, until equity >= maintenance (plus an
 * optional cushion in bps of the maintenance requirement). Selling at the mark leaves equity
 * unchanged and lowers the requirement, which is why the plan is about requirement only. When
 * equity <= 0 nothing short of closing everything helps, so every position is closed.
 *
 * API
 * - `new Margin(clearing, terms: MarginTerms[])`; `equityTerms(initialBps?, maintenanceBps?)`, `futureTerms(initialPerLotMinor, maintenancePerLotMinor)`
 * - `initialRequirementMinor(a, marks)`, `maintenanceRequirementMinor(a, marks)`, `equityMinor(a, marks)`
 * - `excessMinor(a, marks)`, `initialExcessMinor(a, marks)`, `needsLiquidation(a, marks)`, `marginCallMinor(a, marks)`
 * - `initialExcessCovers(a, marks, amount)`: `initialExcessMinor(a, marks) >= amount.minor`, allocation-free (risk's check; the amount by reference, see MinorAmount)
 * - `planLiquidation(a, marks, cushionBps = 0)` -> `LiquidationOrder[]`
 * - `initialPerLotMinor(instrument, priceTicks)`: linear per-lot initial margin used by risk to reserve for open orders.
 */
import { assert } from './assert.js';
import type { Clearing } from './clearing.js';
import { type MinorAmount, mulDivCeil, rateBpsCeil } from './money.js';
import { Side } from './types.js';

export interface MarginTerms {
  readonly isFuture: boolean;
  /** Equities: rates in bps of market value. */
  readonly initialBps: number;
  readonly maintenanceBps: number;
  /** Futures: minor units per lot. */
  readonly initialPerLotMinor: number;
  readonly maintenancePerLotMinor: number;
}

export function equityTerms(initialBps = 5_000, maintenanceBps = 2_500): MarginTerms {
  assert(Number.isInteger(initialBps) && Number.isInteger(maintenanceBps) && initialBps >= maintenanceBps && maintenanceBps >= 0 && initialBps <= 10_000, 'equity margin: need whole bps, 0 <= maintenance <= initial <= 100%');
  return { isFuture: false, initialBps, maintenanceBps, initialPerLotMinor: 0, maintenancePerLotMinor: 0 };
}

export function futureTerms(initialPerLotMinor: number, maintenancePerLotMinor: number): MarginTerms {
  assert(initialPerLotMinor >= maintenancePerLotMinor && maintenancePerLotMinor >= 0, 'futures margin: need 0 <= maintenance <= initial');
  return { isFuture: true, initialBps: 0, maintenanceBps: 0, initialPerLotMinor, maintenancePerLotMinor };
}

export interface LiquidationOrder {
  readonly instrument: number;
  readonly side: Side;
  readonly sizeLots: number;
}

/** A requirement-reduction search longer than this means a bug in the estimate. */
const LIQUIDATION_REFINE_MAX = 64;

export class Margin {
  constructor(
    private readonly clearing: Clearing,
    private readonly terms: readonly MarginTerms[],
  ) {
    assert(terms.length === clearing.portfolio.instrumentCount, 'margin terms needed for every instrument');
    terms.forEach((t, i) => assert(t.isFuture === clearing.portfolio.isFuture(i), `instrument ${i}: margin style does not match the instrument kind`));
  }

  /** Requirement of |lots| at a mark for one instrument. */
  requirementOfLots(instrument: number, lots: number, markTicks: number, initial: boolean): number {
    if (lots === 0) return 0;
    const t = this.terms[instrument]!;
    const abs = lots < 0 ? -lots : lots;
    if (t.isFuture) return abs * (initial ? t.initialPerLotMinor : t.maintenancePerLotMinor);
    const value = this.clearing.portfolio.notional(instrument, markTicks, abs);
    return rateBpsCeil(value, initial ? t.initialBps : t.maintenanceBps);
  }

  initialPerLotMinor(instrument: number, priceTicks: number): number {
    const t = this.terms[instrument]!;
    if (t.isFuture) return t.initialPerLotMinor;
    return rateBpsCeil(this.clearing.portfolio.notional(instrument, priceTicks, 1), t.initialBps);
  }

  private requirement(a: number, marks: ArrayLike<number>, initial: boolean): number {
    const pf = this.clearing.portfolio;
    let s = 0;
    for (let i = 0; i < pf.instrumentCount; i++) s += this.requirementOfLots(i, pf.position(a, i), marks[i]!, initial);
    return s;
  }

  initialRequirementMinor(a: number, marks: ArrayLike<number>): number {
    return this.requirement(a, marks, true);
  }

  maintenanceRequirementMinor(a: number, marks: ArrayLike<number>): number {
    return this.requirement(a, marks, false);
  }

  equityMinor(a: number, marks: ArrayLike<number>): number {
    return this.clearing.equityMinor(a, marks);
  }

  excessMinor(a: number, marks: ArrayLike<number>): number {
    return this.equityMinor(a, marks) - this.maintenanceRequirementMinor(a, marks);
  }

  initialExcessMinor(a: number, marks: ArrayLike<number>): number {
    return this.equityMinor(a, marks) - this.initialRequirementMinor(a, marks);
  }

  /**
   * Whether `initialExcessMinor(a, marks)` is at least `amount.minor`: risk's margin check, run on
   * every order of a margin account. One loop over the account's figures, compared here: an
   * excess returned from a call V8 does not inline is boxed in a new heap number whenever it is
   * no small integer (an account's equity in minor units rarely is), and the sums it is made
   * of, equity and the requirement, were each returned so in some isolates.
   */
  initialExcessCovers(a: number, marks: ArrayLike<number>, amount: Readonly<MinorAmount>): boolean {
    const cl = this.clearing;
    const pf = cl.portfolio;
    // Cash (settled and unsettled) straight from the ledger: its balance reader is small enough
    // for V8 to inline always, where Clearing's sums were returned boxed in some isolates.
    const L = cl.ledger;
    let excess = L.normalBalance(cl.cashAvailableAccount(a)) + L.normalBalance(cl.cashHeldAccount(a)) + L.normalBalance(cl.cashUnsettledAccount(a));
    for (let i = 0; i < pf.instrumentCount; i++) {
      // Equity's mark value and the requirement from one notional: V8 inlines callees out of a
      // fixed budget per function, and with the notional computed twice (markValueMinor and
      // requirementOfLots) some isolates ran out of it and called the rounding division out
      // of line, boxing its argument (notional x rate is no small integer).
      const p = pf.position(a, i);
      const lots = p < 0 ? -p : p;
      let value = 0;
      let req = 0;
      if (lots !== 0) {
        value = pf.notional(i, marks[i]!, lots);
        const t = this.terms[i]!;
        req = t.isFuture ? lots * t.initialPerLotMinor : rateBpsCeil(value, t.initialBps);
      }
      excess += (p > 0 ? value : 0 - value) - pf.vmBasisMinor(a, i) - req;
    }
    return excess >= amount.minor;
  }

  needsLiquidation(a: number, marks: ArrayLike<number>): boolean {
    return this.excessMinor(a, marks) < 0;
  }

  marginCallMinor(a: number, marks: ArrayLike<number>): number {
    const equity = this.equityMinor(a, marks);
    if (equity >= this.maintenanceRequirementMinor(a, marks)) return 0;
    return this.initialRequirementMinor(a, marks) - equity;
  }

  planLiquidation(a: number, marks: ArrayLike<number>, cushionBps = 0): LiquidationOrder[] {
    const pf = this.clearing.portfolio;
    const equity = this.equityMinor(a, marks);
    const maint = this.maintenanceRequirementMinor(a, marks);
    let missing = maint + mulDivCeil(maint, cushionBps, 10_000) - equity;
    const out: LiquidationOrder[] = [];
    if (missing <= 0) return out;
    const order: { i: number; req: number }[] = [];
    for (let i = 0; i < pf.instrumentCount; i++) {
      const p = pf.position(a, i);
      if (p !== 0) order.push({ i, req: this.requirementOfLots(i, p, marks[i]!, false) });
    }
    order.sort((x, y) => y.req - x.req || x.i - y.i);
    const closeAll = equity <= 0;
    for (const { i, req } of order) {
      if (missing <= 0) break;
      const p = pf.position(a, i);
      const abs = p < 0 ? -p : p;
      let lots = abs;
      if (!closeAll && req > missing) {
        const perLot = this.requirementOfLots(i, 1, marks[i]!, false);
        lots = perLot > 0 ? Math.min(abs, Math.ceil(missing / perLot)) : abs;
        // Per-position rounding can make the per-lot figure a slight overestimate; refine upward.
        let n = 0;
        while (lots < abs && req - this.requirementOfLots(i, abs - lots, marks[i]!, false) < missing) {
          lots++;
          assert(++n <= LIQUIDATION_REFINE_MAX, 'liquidation refine did not converge');
        }
      }
      missing -= req - this.requirementOfLots(i, abs - lots, marks[i]!, false);
      out.push({ instrument: i, side: p > 0 ? Side.Sell : Side.Buy, sizeLots: lots });
    }
    return out;
  }
}
