/**
 * Daily reconciliation of our ledger's payment movements at one bank against that bank's
 * statement. One `Reconciler` per bank keeps its open breaks from day to day.
 *
 * A day's run, in order:
 * 1. By reference, same day: a ledger item and a statement item with the same reference and
 *    sign match when the amounts agree; with different amounts they are an amount-mismatch.
 * 2. A statement item whose reference and amount were already matched (today or before) is a duplicate.
 * 3. By reference across days: an item that matches an open break of the other side from an
 *    earlier day within the window resolves that break as a timing difference.
 * 4. By amount and date window: a statement item whose reference we do not know matches an
 *    unmatched ledger item of the same signed amount within the window (the bank lost the
 *    reference), else an open missing-in-bank break of an earlier day within the window, which
 *    resolves as timing (the bank lost the reference and was late).
 * 5. Leftovers: a ledger item is missing-in-bank; a statement item with one of our references is
 *    missing-in-ledger; any other statement item is an unknown-item.
 * A missing-in-bank or missing-in-ledger break whose counterpart arrives within the window is
 * re-classified as timing and resolved; the others stay open.
 */

export enum BreakClass {
  MissingInBank = 0,
  MissingInLedger = 1,
  Duplicate = 2,
  AmountMismatch = 3,
  Timing = 4,
  UnknownItem = 5,
}
export const BREAK_CLASS_NAME = ['missing-in-bank', 'missing-in-ledger', 'duplicate', 'amount-mismatch', 'timing', 'unknown-item'] as const;
export type BreakClassName = (typeof BREAK_CLASS_NAME)[number];

/** One movement: +money in, -money out, in minor units. */
export interface ReconItem {
  readonly ref: string;
  /** Epoch day the movement was booked. */
  readonly day: number;
  readonly amountMinor: number;
}

export interface ReconBreak {
  readonly id: number;
  readonly bank: number;
  /** Epoch day the break was found. */
  readonly day: number;
  /** The class it was found as. */
  readonly foundAs: BreakClass;
  /** Its class now (a resolved timing difference was found as missing-in-bank or -ledger). */
  cls: BreakClass;
  readonly ref: string;
  /** Our payment id for the reference, 0 when the reference is unknown. */
  readonly paymentId: number;
  /** null when our ledger has no such item. */
  readonly ledgerAmountMinor: number | null;
  /** null when the statement has no such item. */
  bankAmountMinor: number | null;
  status: 'open' | 'resolved';
  resolvedDay: number | null;
}

export interface ReconDayResult {
  matched: number;
  found: ReconBreak[];
  resolved: ReconBreak[];
}

export interface ReconOptions {
  readonly bank: number;
  /** True when `later` is within the matching window of `earlier` (earlier <= later). */
  readonly withinWindow: (earlier: number, later: number) => boolean;
  /** Our payment id for a statement reference, 0 when it is not one of ours. */
  readonly paymentIdOf: (ref: string) => number;
  /** Break ids come from one counter shared by every bank. */
  readonly nextBreakId: () => number;
}

export class Reconciler {
  readonly breaks: ReconBreak[] = [];
  private readonly matchedKeys = new Set<string>();

  constructor(private readonly o: ReconOptions) {}

  get openBreaks(): number {
    let n = 0;
    for (const b of this.breaks) if (b.status === 'open') n++;
    return n;
  }

  runDay(day: number, ledger: readonly ReconItem[], bank: readonly ReconItem[]): ReconDayResult {
    const o = this.o;
    const found: ReconBreak[] = [];
    const resolved: ReconBreak[] = [];
    let matched = 0;
    const lUsed = new Uint8Array(ledger.length);
    const bUsed = new Uint8Array(bank.length);
    const sameSign = (a: number, b: number): boolean => (a > 0) === (b > 0);
    const key = (ref: string, amount: number): string => `${ref}\u0000${amount}`;
    const open = (cls: BreakClass, ref: string, l: number | null, b: number | null): void => {
      const br: ReconBreak = {
        id: o.nextBreakId(),
        bank: o.bank,
        day,
        foundAs: cls,
        cls,
        ref,
        paymentId: o.paymentIdOf(ref),
        ledgerAmountMinor: l,
        bankAmountMinor: b,
        status: cls === BreakClass.Timing ? 'resolved' : 'open',
        resolvedDay: null,
      };
      this.breaks.push(br);
      found.push(br);
    };

    // 1. Reference, same day: exact amounts first, so a duplicate with a different amount cannot steal a match.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < ledger.length; i++) {
        if (lUsed[i]) continue;
        const L = ledger[i]!;
        for (let j = 0; j < bank.length; j++) {
          const B = bank[j]!;
          if (bUsed[j] || B.ref !== L.ref || !sameSign(L.amountMinor, B.amountMinor)) continue;
          if (pass === 0 && B.amountMinor !== L.amountMinor) continue;
          lUsed[i] = bUsed[j] = 1;
          if (pass === 0) {
            matched++;
            this.matchedKeys.add(key(L.ref, L.amountMinor));
          } else {
            open(BreakClass.AmountMismatch, L.ref, L.amountMinor, B.amountMinor);
          }
          break;
        }
      }
    }
    // 2. Duplicates.
    for (let j = 0; j < bank.length; j++) {
      if (bUsed[j]) continue;
      const B = bank[j]!;
      if (this.matchedKeys.has(key(B.ref, B.amountMinor))) {
        bUsed[j] = 1;
        open(BreakClass.Duplicate, B.ref, null, B.amountMinor);
      }
    }
    // 3. Reference across days: resolve earlier open breaks as timing differences.
    // The window is measured from the break's day to the item's own day: a movement our ledger
    // booked late (a delayed callback) carries its value day and still resolves the break.
    const resolveWith = (side: BreakClass, ref: string, amount: number, itemDay: number): boolean => {
      for (const br of this.breaks) {
        if (br.status !== 'open' || br.foundAs !== side || br.ref !== ref || br.day >= day) continue;
        if (!o.withinWindow(Math.min(br.day, itemDay), Math.max(br.day, itemDay))) continue;
        const amt = side === BreakClass.MissingInBank ? br.ledgerAmountMinor : br.bankAmountMinor;
        if (amt !== amount) continue;
        br.cls = BreakClass.Timing;
        br.status = 'resolved';
        br.resolvedDay = day;
        if (side === BreakClass.MissingInBank) br.bankAmountMinor = amount;
        this.matchedKeys.add(key(ref, amount));
        resolved.push(br);
        return true;
      }
      return false;
    };
    for (let i = 0; i < ledger.length; i++) {
      if (!lUsed[i] && resolveWith(BreakClass.MissingInLedger, ledger[i]!.ref, ledger[i]!.amountMinor, ledger[i]!.day)) lUsed[i] = 1;
    }
    for (let j = 0; j < bank.length; j++) {
      if (!bUsed[j] && resolveWith(BreakClass.MissingInBank, bank[j]!.ref, bank[j]!.amountMinor, bank[j]!.day)) bUsed[j] = 1;
    }
    // 4. Amount and date window, for statement items without a reference we know: first an
    // unmatched ledger item of today's run, then an open missing-in-bank break of an earlier
    // day (the bank lost the reference and was late: a timing difference, resolved).
    for (let j = 0; j < bank.length; j++) {
      const B = bank[j]!;
      if (bUsed[j] || o.paymentIdOf(B.ref) !== 0) continue;
      for (let i = 0; i < ledger.length; i++) {
        const L = ledger[i]!;
        if (lUsed[i] || L.amountMinor !== B.amountMinor || !o.withinWindow(Math.min(L.day, B.day), Math.max(L.day, B.day))) continue;
        lUsed[i] = bUsed[j] = 1;
        matched++;
        this.matchedKeys.add(key(L.ref, B.amountMinor));
        break;
      }
      if (bUsed[j]) continue;
      for (const br of this.breaks) {
        if (br.status !== 'open' || br.foundAs !== BreakClass.MissingInBank || br.day >= day || br.ledgerAmountMinor !== B.amountMinor) continue;
        if (!o.withinWindow(br.day, B.day)) continue;
        br.cls = BreakClass.Timing;
        br.status = 'resolved';
        br.resolvedDay = day;
        br.bankAmountMinor = B.amountMinor;
        this.matchedKeys.add(key(br.ref, B.amountMinor));
        resolved.push(br);
        bUsed[j] = 1;
        break;
      }
    }
    // 5. Leftovers.
    for (let i = 0; i < ledger.length; i++) if (!lUsed[i]) open(BreakClass.MissingInBank, ledger[i]!.ref, ledger[i]!.amountMinor, null);
    for (let j = 0; j < bank.length; j++) {
      if (bUsed[j]) continue;
      const B = bank[j]!;
      open(o.paymentIdOf(B.ref) !== 0 ? BreakClass.MissingInLedger : BreakClass.UnknownItem, B.ref, null, B.amountMinor);
    }
    return { matched, found, resolved };
  }
}

/** How a break's amount counts toward its class total (`breakAmountMinor`). */
export const BREAK_AMOUNT_RULE: Record<BreakClassName, string> = {
  'missing-in-bank': 'abs(ledger amount)',
  'missing-in-ledger': 'abs(bank amount)',
  duplicate: 'abs(bank amount)',
  'amount-mismatch': 'abs(bank amount - ledger amount)',
  timing: 'abs(ledger amount, else bank amount)',
  'unknown-item': 'abs(bank amount)',
};

/** What one break adds to its class total: the difference for an amount-mismatch, else the absolute amount of the side that has one. */
export function breakAmountMinor(b: ReconBreak): number {
  return b.cls === BreakClass.AmountMismatch ? Math.abs((b.bankAmountMinor ?? 0) - (b.ledgerAmountMinor ?? 0)) : Math.abs(b.ledgerAmountMinor ?? b.bankAmountMinor ?? 0);
}

/** Count and total (absolute, of whichever side has an amount) per final class. */
export function breakTotals(breaks: readonly ReconBreak[]): Record<BreakClassName, { count: number; open: number; amountMinor: number }> {
  const out = {} as Record<BreakClassName, { count: number; open: number; amountMinor: number }>;
  for (const n of BREAK_CLASS_NAME) out[n] = { count: 0, open: 0, amountMinor: 0 };
  for (const b of breaks) {
    const t = out[BREAK_CLASS_NAME[b.cls]];
    t.count++;
    if (b.status === 'open') t.open++;
    t.amountMinor += breakAmountMinor(b);
  }
  return out;
}
