/**
 * Payment rails: when a payment handed to the bank at a given virtual time goes out and
 * settles, on the business calendar. Pure functions of configuration and time.
 *
 * - ACH moves in batches: a payment waits for the next batch cutoff of a business day (after
 *   the last cutoff, the first of the next business day), and settles T+settlementDays business
 *   days after its batch day, at `settleTimeNs` of that day. Returns (R01 ...) come back
 *   `returnDelayDays` business days after settlement: the money can be gone by then.
 * - Wire: settles the same business day, `processingNs` after submission, if submitted before
 *   the cutoff; otherwise at the next business day's open plus processing. Irrevocable once
 *   settled (engine/payment.ts has no transition out of a settled wire).
 *
 * Times are virtual ns since midnight of the scenario date (`scenarioDay` = its epoch day).
 */
import { assert } from './assert.js';
import { type BusinessCalendar, NS_PER_DAY, dayOfTs, tsOfDay } from './calendar.js';

/** Real NACHA return codes the simulator can produce, with their meaning. */
export const ACH_RETURN_CODES = {
  R01: 'insufficient funds',
  R02: 'account closed',
  R03: 'no account / unable to locate account',
  R04: 'invalid account number',
  R10: 'customer advises not authorized',
  R16: 'account frozen',
  R29: 'corporate customer advises not authorized',
} as const;
export type AchReturnCode = keyof typeof ACH_RETURN_CODES;
export const ACH_RETURN_CODE_LIST = Object.keys(ACH_RETURN_CODES) as AchReturnCode[];

export interface AchRules {
  /** Batch cutoffs as ns after midnight, ascending. */
  readonly cutoffsNs: readonly number[];
  /** 1 or 2 (T+1, T+2). */
  readonly settlementDays: number;
  /** Time of day settlement is booked on the settlement day. */
  readonly settleTimeNs: number;
  /** Business days after settlement a return arrives. */
  readonly returnDelayDays: number;
}

export interface WireRules {
  readonly cutoffNs: number;
  /** Start of the wire day (after a missed cutoff, processing starts then on the next business day). */
  readonly openNs: number;
  readonly processingNs: number;
}

export class Rails {
  constructor(
    readonly calendar: BusinessCalendar,
    readonly scenarioDay: number,
    readonly ach: AchRules,
    readonly wire: WireRules,
  ) {
    assert(ach.cutoffsNs.length > 0, 'ACH needs at least one cutoff');
    for (let i = 0; i < ach.cutoffsNs.length; i++) {
      const c = ach.cutoffsNs[i]!;
      assert(c >= 0 && c < NS_PER_DAY && (i === 0 || c > ach.cutoffsNs[i - 1]!), 'ACH cutoffs must be ascending times of day');
    }
    assert(ach.settlementDays >= 0 && ach.settlementDays <= 5, 'ACH settlement lag out of range');
    assert(wire.cutoffNs > wire.openNs, 'wire cutoff must be after the wire open');
  }

  /** Virtual time of the ACH batch a payment handed over at `tsNs` goes out in. */
  achBatchNs(tsNs: number): number {
    const day = dayOfTs(this.scenarioDay, tsNs);
    if (this.calendar.isBusinessDay(day)) {
      const tod = tsNs - tsOfDay(this.scenarioDay, day);
      for (const c of this.ach.cutoffsNs) if (tod <= c) return tsOfDay(this.scenarioDay, day, c);
    }
    return tsOfDay(this.scenarioDay, this.calendar.nextBusinessDay(day), this.ach.cutoffsNs[0]!);
  }

  /** Settlement time of an ACH batch that went out at `batchNs`. */
  achSettlementNs(batchNs: number): number {
    const day = dayOfTs(this.scenarioDay, batchNs);
    return tsOfDay(this.scenarioDay, this.calendar.settlementDay(day, this.ach.settlementDays), this.ach.settleTimeNs);
  }

  /** When an ACH return for a payment settled at `settledNs` arrives, `extraDays` later than the usual delay. */
  achReturnNs(settledNs: number, extraDays = 0): number {
    const day = dayOfTs(this.scenarioDay, settledNs);
    return tsOfDay(this.scenarioDay, this.calendar.addBusinessDays(day, this.ach.returnDelayDays + extraDays), this.ach.settleTimeNs);
  }

  /** Settlement time of a wire handed over at `tsNs`. */
  wireSettlementNs(tsNs: number): number {
    const day = dayOfTs(this.scenarioDay, tsNs);
    const tod = tsNs - tsOfDay(this.scenarioDay, day);
    if (this.calendar.isBusinessDay(day) && tod < this.wire.cutoffNs) {
      return Math.max(tsNs, tsOfDay(this.scenarioDay, day, this.wire.openNs)) + this.wire.processingNs;
    }
    return tsOfDay(this.scenarioDay, this.calendar.nextBusinessDay(day), this.wire.openNs) + this.wire.processingNs;
  }
}
