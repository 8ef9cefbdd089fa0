/**
 * The `payments` section of a scenario: its zod shape (pass 2) and its meaning (pass 3),
 * normalised into sim/payments-config.ts. sim/scenario.ts plugs both in; problems are
 * reported through its collector with the JSON path (`payments.requests[3].amount`).
 * Kept in its own file so the accounts work on scenario.ts merges without conflicts.
 */
import { z } from 'zod';
import { int, list, num, obj, oneOf, str } from './schema.js';
import { BusinessCalendar } from '../engine/calendar.js';
import { toUnits } from '../engine/decimal.js';
import { DEFAULT_FRAUD_SCORES, KYC_NAME, KycStatus, type FraudAccount } from '../engine/fraud.js';
import { Direction, PaymentReason, RAIL_NAME, Rail } from '../engine/payment.js';
import { ACH_RETURN_CODE_LIST } from '../engine/rails.js';
import { BREAK_CLASS_NAME, BreakClass } from '../engine/recon.js';
import { LOST_REFERENCE, LOST_REFERENCE_DEFAULT, type BankConfig, type InjectedBreak, type InjectedClass, type PaymentRequestSpec, type PaymentsConfig, type ScriptedOutcome } from './payments-config.js';
import { DATE_EXPECTED, DATE_TIME_EXPECTED, DAYS_AFTER_SESSION_MAX, NS_PER_SECOND, TIME_OF_DAY_EXPECTED, TimeFormatError, parseDateDays, parseDateTimeNs, parseTimeOfDayNs } from './scenario-time.js';

export const PAYMENTS_LIMITS = {
  banksMax: 16,
  requestsMax: 1_000_000,
  breaksMax: 10_000,
  cutoffsMax: 10,
  keyLengthMax: 255,
} as const;

const money = str('a decimal amount string like "1000.00"', /^\d+(?:\.\d+)?$/, 40);
const time = str(TIME_OF_DAY_EXPECTED, undefined, 100);
const date = str(DATE_EXPECTED, undefined, 100);
const prob = num(0, 1, 'a probability from 0 to 1').default(0);
const ms = (d: number) => int(0, 86_400_000, 'a whole number of milliseconds from 0 to 86400000').default(d);
const OUTCOMES = ['settle', 'reject', ...ACH_RETURN_CODE_LIST] as [string, ...string[]];

const faultsSchema = obj(
  {
    timeout: prob,
    timeoutProcessed: num(0, 1, 'a probability from 0 to 1').default(0.5),
    serverError: prob,
    rateLimit: prob,
    retryAfterMs: ms(2000),
    duplicateCallback: prob,
    outOfOrder: prob,
    lateReturn: prob,
    lateReturnDays: int(0, 10).default(2),
    returnRate: prob,
    outages: list(obj({ from: str(DATE_TIME_EXPECTED), to: str(DATE_TIME_EXPECTED) }, 'an object like {"from": "10:00:00", "to": "10:05:00"}'), 'outages', 100).default([]),
  },
  'an object of fault probabilities like {"timeout": 0.1, "duplicateCallback": 0.2}',
);

const bankSchema = obj(
  {
    name: str('a bank name of 1 to 32 letters, digits, ".", "_" or "-"', /^[A-Za-z0-9._-]{1,32}$/),
    rateLimitPerSec: num(0.001, 1_000_000, 'a positive number of calls per second').default(10),
    latencyMs: ms(200),
    callbackLatencyMs: ms(1000),
    faults: faultsSchema.prefault({}),
  },
  'a bank object like {"name": "first-bank", "rateLimitPerSec": 5}',
);

const requestSchema = obj(
  {
    at: str(DATE_TIME_EXPECTED),
    type: oneOf(['deposit', 'withdrawal', 'hold'] as const),
    rail: oneOf(RAIL_NAME as unknown as ['ach', 'wire']).optional(),
    account: str('an account id (a string)', undefined, 100),
    amount: money,
    idempotencyKey: str(`an idempotency key of 1 to ${PAYMENTS_LIMITS.keyLengthMax} characters`, /^.+$/s, PAYMENTS_LIMITS.keyLengthMax).optional(),
    bank: str('a bank name (a string)', undefined, 100).optional(),
    outcome: oneOf(OUTCOMES).optional(),
  },
  'a request object like {"at": "10:00:00", "type": "deposit", "rail": "ach", "account": "alice", "amount": "500.00", "idempotencyKey": "d1"}',
);

const breakSchema = obj(
  {
    class: oneOf([...BREAK_CLASS_NAME, LOST_REFERENCE] as unknown as [string, ...string[]]),
    key: str('the idempotencyKey of a request', undefined, PAYMENTS_LIMITS.keyLengthMax).optional(),
    bank: str('a bank name (a string)', undefined, 100).optional(),
    date: date.optional(),
    amount: money.optional(),
    direction: oneOf(['credit', 'debit'] as const).optional(),
    reference: str('a statement reference of 1 to 64 characters', /^.{1,64}$/s).optional(),
    days: int(0, 10).optional(),
  },
  'a break object like {"class": "missing-in-bank", "key": "d1"}',
);

const scoresSchema = obj(
  {
    kyc: int(0, 1000).optional(),
    amountLimit: int(0, 1000).optional(),
    velocity: int(0, 1000).optional(),
    newAccount: int(0, 1000).optional(),
    insufficientFunds: int(0, 1000).optional(),
    unsettledAch: int(0, 1000).optional(),
  },
  'an object of rule scores like {"velocity": 50}',
);

export const paymentsSchema = obj(
  {
    currency: obj({ code: str('a currency code like "USD"', /^[A-Z]{3,8}$/), minorExponent: int(0, 8) }, 'an object like {"code": "USD", "minorExponent": 2}').default({ code: 'USD', minorExponent: 2 }),
    days: int(1, DAYS_AFTER_SESSION_MAX).default(5),
    holidays: list(date, 'dates', 1000).default([]),
    ach: obj(
      {
        cutoffs: list(time, 'times of day', PAYMENTS_LIMITS.cutoffsMax, 1).default(['10:30:00', '14:30:00', '16:45:00']),
        // ACH settles T+1 or T+2 (same-day ACH is a different product, not modelled).
        settlementDays: int(1, 2).default(1),
        settleTime: time.default('08:30:00'),
        returnDelayDays: int(0, 10).default(2),
      },
      'an object like {"cutoffs": ["10:30:00"], "settlementDays": 1}',
    ).prefault({}),
    wire: obj({ open: time.default('08:00:00'), cutoff: time.default('17:00:00'), processingSeconds: int(0, 86_399).default(1800) }, 'an object like {"cutoff": "17:00:00"}').prefault({}),
    retry: obj(
      {
        maxAttempts: int(1, 32).default(6),
        baseDelayMs: ms(1000),
        maxDelayMs: ms(60_000),
        jitter: num(0, 1, 'a fraction from 0 to 1').default(0.2),
        timeoutMs: ms(30_000),
      },
      'an object like {"maxAttempts": 6, "baseDelayMs": 1000}',
    ).prefault({}),
    banks: list(bankSchema, 'banks', PAYMENTS_LIMITS.banksMax, 1),
    accounts: list(
      obj({ account: str('an account id (a string)', undefined, 100), kyc: oneOf(KYC_NAME as unknown as [string, ...string[]]).default('verified'), opened: date.optional() }, 'an object like {"account": "alice", "kyc": "verified", "opened": "2025-06-01"}'),
      'accounts',
      100_000,
    ).default([]),
    rules: obj(
      {
        maxDepositsPerDay: int(0, 1_000_000).default(0),
        depositLimit: money.optional(),
        withdrawalLimit: money.optional(),
        newAccountDays: int(0, 3650).default(0),
        achInstant: money.default('0'),
        alertScore: int(0, 100_000).default(50),
        scores: scoresSchema.default({}),
      },
      'an object of fraud rules like {"maxDepositsPerDay": 3, "achInstant": "1000.00"}',
    ).prefault({}),
    requests: list(requestSchema, 'requests', PAYMENTS_LIMITS.requestsMax).default([]),
    recon: obj(
      { windowDays: int(0, 10).default(1), statementTime: time.default('23:00:00'), breaks: list(breakSchema, 'breaks', PAYMENTS_LIMITS.breaksMax).default([]) },
      'an object like {"windowDays": 1, "breaks": [...]}',
    ).prefault({}),
  },
  'a payments object with banks, accounts, rules, requests and recon (see docs/payments.md)',
);

export type PaymentsFile = z.infer<typeof paymentsSchema>;

export interface PaymentsContext {
  sessionDate: string;
  /** account id -> index, for ids defined in the scenario's accounts. */
  accountIndex: (id: string) => number | undefined;
  accountIds: readonly string[];
  add: (path: string, what: string) => void;
  /**
   * When the scenario has a back office, each account's cash currency (minorExponent -1 if
   * unknown): payments then post to the back office's ledger, so the currencies must agree,
   * and a hold (a stand-in for spending) has no place beside real orders. Null otherwise.
   */
  backOfficeCurrencies?: readonly { code: string; minorExponent: number }[] | null;
}

function names(xs: readonly string[]): string {
  const shown = xs.slice(0, 8).map((s) => JSON.stringify(s));
  if (xs.length > 8) shown.push('...');
  return xs.length === 0 ? 'none are defined' : `expected one of ${shown.join(', ')}`;
}

/** Pass 3 for the payments section. Returns null when something was reported. */
export function normalisePayments(f: PaymentsFile, c: PaymentsContext): PaymentsConfig | null {
  let bad = 0;
  const add = (path: string, what: string): void => {
    bad++;
    c.add(`payments.${path}`, what);
  };
  const tryTime = <T>(path: string, fn: () => T, dflt: T): T => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof TimeFormatError)) throw e;
      add(path, e.message);
      return dflt;
    }
  };
  const startDay = parseDateDays(c.sessionDate);
  const unit = f.currency.minorExponent === 0 ? '1' : `0.${'0'.repeat(f.currency.minorExponent - 1)}1`;
  const amount = (path: string, s: string, allowZero = false): number => {
    let n: number;
    try {
      n = toUnits(s, unit);
    } catch {
      add(path, `${JSON.stringify(s)} is too large`);
      return 0;
    }
    if (Number.isNaN(n)) {
      add(path, `${JSON.stringify(s)} has more decimals than ${f.currency.code} allows (${f.currency.minorExponent})`);
      return 0;
    }
    if (!allowZero && n <= 0) add(path, `expected a positive amount like "100.00", got ${JSON.stringify(s)}`);
    return n;
  };
  const holidays: string[] = [];
  f.holidays.forEach((h, i) => {
    if (tryTime(`holidays[${i}]`, () => parseDateDays(h), -1) >= 0) holidays.push(h);
  });
  const calendar = new BusinessCalendar(holidays);
  const endDay = startDay + f.days;

  const cutoffsNs = f.ach.cutoffs.map((s, i) => tryTime(`ach.cutoffs[${i}]`, () => parseTimeOfDayNs(s), 0));
  for (let i = 1; i < cutoffsNs.length; i++) if (cutoffsNs[i]! <= cutoffsNs[i - 1]!) add(`ach.cutoffs[${i}]`, `expected a time after ach.cutoffs[${i - 1}] ${JSON.stringify(f.ach.cutoffs[i - 1])}; cutoffs must ascend`);
  const settleTimeNs = tryTime('ach.settleTime', () => parseTimeOfDayNs(f.ach.settleTime), 0);
  const wireOpen = tryTime('wire.open', () => parseTimeOfDayNs(f.wire.open), 0);
  const wireCutoff = tryTime('wire.cutoff', () => parseTimeOfDayNs(f.wire.cutoff), 1);
  if (wireCutoff <= wireOpen) add('wire.cutoff', `expected a time after wire.open ${JSON.stringify(f.wire.open)}, got ${JSON.stringify(f.wire.cutoff)}`);
  if (f.retry.maxDelayMs < f.retry.baseDelayMs) add('retry.maxDelayMs', `expected at least retry.baseDelayMs (${f.retry.baseDelayMs}), got ${f.retry.maxDelayMs}`);

  const bankIndex = new Map<string, number>();
  const banks: BankConfig[] = f.banks.map((b, i) => {
    if (bankIndex.has(b.name)) add(`banks[${i}].name`, `${JSON.stringify(b.name)} is already used by banks[${bankIndex.get(b.name)}]`);
    else bankIndex.set(b.name, i);
    const outages = b.faults.outages.map((o, k) => {
      const fromNs = tryTime(`banks[${i}].faults.outages[${k}].from`, () => parseDateTimeNs(c.sessionDate, o.from), 0);
      const toNs = tryTime(`banks[${i}].faults.outages[${k}].to`, () => parseDateTimeNs(c.sessionDate, o.to), 0);
      if (toNs <= fromNs) add(`banks[${i}].faults.outages[${k}].to`, `expected a time after from ${JSON.stringify(o.from)}, got ${JSON.stringify(o.to)}`);
      return { fromNs, toNs };
    });
    const ft = b.faults;
    if (ft.timeout + ft.serverError + ft.rateLimit > 1) add(`banks[${i}].faults`, `timeout + serverError + rateLimit must be at most 1, got ${ft.timeout + ft.serverError + ft.rateLimit}`);
    return {
      name: b.name,
      rateLimitPerSec: b.rateLimitPerSec,
      latencyNs: b.latencyMs * 1_000_000,
      callbackLatencyNs: b.callbackLatencyMs * 1_000_000,
      faults: {
        timeout: ft.timeout,
        timeoutProcessed: ft.timeoutProcessed,
        serverError: ft.serverError,
        rateLimit: ft.rateLimit,
        retryAfterNs: ft.retryAfterMs * 1_000_000,
        duplicateCallback: ft.duplicateCallback,
        outOfOrder: ft.outOfOrder,
        lateReturn: ft.lateReturn,
        lateReturnDays: ft.lateReturnDays,
        returnRate: ft.returnRate,
        outages,
      },
    };
  });
  const bankNames = f.banks.map((b) => b.name);
  const lookupBank = (path: string, name: string | undefined): number => {
    if (name === undefined) return 0;
    const i = bankIndex.get(name);
    if (i === undefined) add(path, `unknown bank ${JSON.stringify(name)}; ${names(bankNames)}`);
    return i ?? 0;
  };
  const lookupAccount = (path: string, id: string): number => {
    const i = c.accountIndex(id);
    if (i === undefined) add(path, `unknown account ${JSON.stringify(id)}; ${names(c.accountIds)}`);
    return i ?? 0;
  };

  // Accounts without an entry are verified and long-standing.
  const accounts: FraudAccount[] = c.accountIds.map(() => ({ kyc: KycStatus.Verified, openedDay: startDay - 36_500 }));
  const seenAcct = new Map<number, number>();
  f.accounts.forEach((a, i) => {
    const idx = lookupAccount(`accounts[${i}].account`, a.account);
    if (c.accountIndex(a.account) === undefined) return;
    if (seenAcct.has(idx)) add(`accounts[${i}].account`, `${JSON.stringify(a.account)} is already listed at accounts[${seenAcct.get(idx)}]`);
    seenAcct.set(idx, i);
    const openedDay = a.opened === undefined ? startDay - 36_500 : tryTime(`accounts[${i}].opened`, () => parseDateDays(a.opened!), startDay);
    accounts[idx] = { kyc: KYC_NAME.indexOf(a.kyc as (typeof KYC_NAME)[number]) as KycStatus, openedDay };
  });

  const R = f.rules;
  const rules = {
    maxDepositsPerDay: R.maxDepositsPerDay,
    depositLimitMinor: R.depositLimit === undefined ? 0 : amount('rules.depositLimit', R.depositLimit),
    withdrawalLimitMinor: R.withdrawalLimit === undefined ? 0 : amount('rules.withdrawalLimit', R.withdrawalLimit),
    newAccountDays: R.newAccountDays,
    achInstantMinor: amount('rules.achInstant', R.achInstant, true),
    alertScore: R.alertScore,
    scores: { ...DEFAULT_FRAUD_SCORES, ...Object.fromEntries(Object.entries(R.scores).filter(([, v]) => v !== undefined)) },
  };

  const bo = c.backOfficeCurrencies ?? null;
  if (bo !== null) {
    const k = bo.findIndex((x) => x.minorExponent >= 0 && (x.code !== f.currency.code || x.minorExponent !== f.currency.minorExponent));
    if (k >= 0) {
      add('currency', `${f.currency.code} with ${f.currency.minorExponent} decimals, but accounts[${k}] (${JSON.stringify(c.accountIds[k])}) holds ${bo[k]!.code} with ${bo[k]!.minorExponent}; payments post to the accounts' ledger, so the currencies must match`);
    }
  }

  const requests: PaymentRequestSpec[] = [];
  const keyAt = new Map<string, number>();
  let prevNs = -1;
  f.requests.forEach((r, i) => {
    const at = `requests[${i}]`;
    const atNs = tryTime(`${at}.at`, () => parseDateTimeNs(c.sessionDate, r.at), -1);
    if (atNs >= 0) {
      if (atNs < prevNs) add(`${at}.at`, `${JSON.stringify(r.at)} is earlier than requests[${i - 1}].at; requests must be in time order`);
      else prevNs = atNs;
      const day = startDay + Math.floor(atNs / (86_400 * NS_PER_SECOND));
      if (day >= endDay) add(`${at}.at`, `${JSON.stringify(r.at)} is after the last payments day (payments.days is ${f.days})`);
    }
    const account = lookupAccount(`${at}.account`, r.account);
    const amountMinor = amount(`${at}.amount`, r.amount);
    const isHold = r.type === 'hold';
    if (isHold && bo !== null) {
      add(`${at}.type`, '"hold" is for scenarios without accounts trading on cash; this scenario has them, so commit cash with orders through the book (a hold would not reduce buying power)');
    } else if (isHold) {
      for (const k of ['rail', 'idempotencyKey', 'bank', 'outcome'] as const) if (r[k] !== undefined) add(`${at}.${k}`, 'not allowed on a hold (it moves cash from available to held, no bank)');
    } else if (r.idempotencyKey === undefined) {
      add(`${at}.idempotencyKey`, `missing; every ${r.type} carries an idempotency key, like "${r.type}-${i + 1}"`);
    } else if (!keyAt.has(r.idempotencyKey)) {
      keyAt.set(r.idempotencyKey, i);
    }
    const rail = r.rail === 'wire' ? Rail.Wire : Rail.Ach;
    let outcome: ScriptedOutcome | null = null;
    if (r.outcome !== undefined && !isHold) {
      if (r.outcome === 'settle') outcome = { kind: 'settle' };
      else if (r.outcome === 'reject') outcome = { kind: 'reject' };
      else if (rail === Rail.Wire) add(`${at}.outcome`, `${JSON.stringify(r.outcome)} is an ACH return code; a wire is irrevocable once settled ("settle" or "reject")`);
      else outcome = { kind: 'return', code: PaymentReason[r.outcome as keyof typeof PaymentReason] };
    }
    requests.push({
      index: i,
      atNs: Math.max(atNs, 0),
      type: r.type,
      direction: r.type === 'withdrawal' ? Direction.Withdrawal : Direction.Deposit,
      rail,
      account,
      amountMinor,
      idempotencyKey: r.idempotencyKey ?? '',
      bank: lookupBank(`${at}.bank`, r.bank),
      outcome,
    });
  });

  const statementTimeNs = tryTime('recon.statementTime', () => parseTimeOfDayNs(f.recon.statementTime), 0);
  const breaks: InjectedBreak[] = [];
  f.recon.breaks.forEach((b, i) => {
    const at = `recon.breaks[${i}]`;
    const lost = b.class === LOST_REFERENCE;
    const cls: InjectedClass = lost ? LOST_REFERENCE : (BREAK_CLASS_NAME.indexOf(b.class as (typeof BREAK_CLASS_NAME)[number]) as BreakClass);
    const byKey = cls !== BreakClass.UnknownItem;
    let bank = lookupBank(`${at}.bank`, b.bank);
    let amountMinor = 0;
    let day = 0;
    let req: PaymentRequestSpec | undefined;
    if (byKey) {
      if (b.key === undefined) add(`${at}.key`, `missing; a ${b.class} break names the idempotencyKey of a request`);
      else if (!keyAt.has(b.key)) add(`${at}.key`, `${JSON.stringify(b.key)} is not the idempotencyKey of any request`);
      else {
        req = requests[keyAt.get(b.key)!]!;
        bank = req.bank;
      }
      if (lost) {
        if (b.reference !== undefined && /^PMT\d/.test(b.reference)) add(`${at}.reference`, `${JSON.stringify(b.reference)} looks like one of our payment references; a lost-reference line shows the bank's own`);
      } else if (b.reference !== undefined) add(`${at}.reference`, `not allowed on a ${b.class} break (the statement shows our payment reference)`);
    } else {
      if (b.key !== undefined) add(`${at}.key`, 'not allowed on an unknown-item break (it is not one of our payments)');
      if (b.reference === undefined) add(`${at}.reference`, 'missing; an unknown item needs the reference the bank prints, like "FEE-0001"');
      else if (/^PMT\d/.test(b.reference)) add(`${at}.reference`, `${JSON.stringify(b.reference)} looks like one of our payment references`);
    }
    if (cls === BreakClass.AmountMismatch || cls === BreakClass.UnknownItem) {
      if (b.amount === undefined) add(`${at}.amount`, `missing; a ${b.class} break needs the amount the statement shows, like "99.00"`);
      else amountMinor = amount(`${at}.amount`, b.amount);
      if (req && amountMinor === req.amountMinor) add(`${at}.amount`, `is the payment's own amount; an amount-mismatch needs another one`);
    } else if (b.amount !== undefined) add(`${at}.amount`, `not allowed on a ${b.class} break`);
    if (cls === BreakClass.UnknownItem || cls === BreakClass.MissingInLedger) {
      if (b.date === undefined) add(`${at}.date`, `missing; a ${b.class} break needs the statement date, like "2026-01-06"`);
      else {
        day = tryTime(`${at}.date`, () => parseDateDays(b.date!), startDay);
        if (day < startDay || day >= endDay || !calendar.isBusinessDay(day)) add(`${at}.date`, `expected a business day within the payments days, got ${JSON.stringify(b.date)}`);
      }
      if (cls === BreakClass.MissingInLedger && req) amountMinor = req.amountMinor * (req.direction === Direction.Deposit ? 1 : -1);
      if (cls === BreakClass.UnknownItem) {
        if (b.direction === undefined) add(`${at}.direction`, 'missing; "credit" (money in) or "debit" (money out)');
        else if (b.direction === 'debit') amountMinor = -amountMinor;
      }
    } else {
      if (b.date !== undefined) add(`${at}.date`, `not allowed on a ${b.class} break (the payment's own settlement day is used)`);
      if (b.direction !== undefined) add(`${at}.direction`, `not allowed on a ${b.class} break`);
    }
    if (cls === BreakClass.Timing) {
      // one business day late by default
      if (b.days === 0) add(`${at}.days`, 'expected 1 to 10 business days late for a timing break');
    } else if (!lost && b.days !== undefined) add(`${at}.days`, `only a timing or lost-reference break has days`);
    if (req && req.type === 'hold') add(`${at}.key`, 'names a hold, which never reaches a bank');
    const reference = lost ? (b.reference ?? LOST_REFERENCE_DEFAULT) : (b.reference ?? '');
    // A lost reference shows on the payment's own day unless `days` says how late.
    breaks.push({ cls, key: b.key ?? null, bank, day, amountMinor, reference, delayDays: b.days ?? (lost ? 0 : 1) });
  });
  const seenKeys = new Map<string, number>();
  breaks.forEach((b, i) => {
    if (b.key === null) return;
    if (seenKeys.has(b.key)) add(`recon.breaks[${i}].key`, `${JSON.stringify(b.key)} already has a break at recon.breaks[${seenKeys.get(b.key)}]; one per payment`);
    seenKeys.set(b.key, i);
  });

  if (bad > 0) return null;
  return {
    currency: f.currency,
    startDay,
    days: f.days,
    holidays,
    ach: { cutoffsNs, settlementDays: f.ach.settlementDays, settleTimeNs, returnDelayDays: f.ach.returnDelayDays },
    wire: { openNs: wireOpen, cutoffNs: wireCutoff, processingNs: f.wire.processingSeconds * NS_PER_SECOND },
    retry: {
      maxAttempts: f.retry.maxAttempts,
      baseDelayNs: f.retry.baseDelayMs * 1_000_000,
      maxDelayNs: f.retry.maxDelayMs * 1_000_000,
      jitter: f.retry.jitter,
      timeoutNs: f.retry.timeoutMs * 1_000_000,
    },
    banks,
    accounts,
    rules,
    requests,
    recon: { windowDays: f.recon.windowDays, statementTimeNs, breaks },
  };
}
