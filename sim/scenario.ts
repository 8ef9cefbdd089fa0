/**
 * Scenario files: read, validate, and normalise into the integer units the core uses.
 *
 * Three passes, each reporting with the file and the exact location:
 *  1. JSON syntax (our own scanner, so errors carry line:column and duplicate keys are caught;
 *     JSON.parse would silently keep the last of two "seed" fields).
 *  2. Shape (zod): types, required fields, enums, unknown fields anywhere.
 *  3. Meaning: references between sections, ticks and lots, times and their order.
 * Decimal strings become ticks and lots here and nowhere else.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { KNOWN_FIELDS, bool, int, list, num, obj, oneOf, str } from './schema.js';
import type { Command } from '../engine/command.js';
import { BusinessCalendar, NS_PER_DAY as CAL_NS_PER_DAY, formatDate, parseDate, weekday } from '../engine/calendar.js';
import type { BackOfficeAccount, BackOfficeInstrument, MarkTo } from '../engine/back-office.js';
import { toUnits } from '../engine/decimal.js';
import { equityTerms, futureTerms } from '../engine/margin.js';
import { notionalRule, type Currency } from '../engine/money.js';
import type { InstrumentPositionLimits, RiskFirmConfig, RiskLimits } from '../engine/risk.js';
import { checkInstrument, type Instrument } from '../engine/instrument.js';
import { QUEUE_MODEL_NAME, type QueueModel } from '../engine/replay-venue.js';
import type { LobsterFeedParams, TardisFeedParams } from './feeds/replay-feed.js';
import { ORDER_TYPE_NAME, OrderType, SIDE_NAME, STP_NAME, StpMode, TIF_NAME, TimeInForce, type Side } from '../engine/types.js';
import { UserError } from './errors.js';
import type { PaymentsConfig } from './payments-config.js';
import { normalisePayments, paymentsSchema } from './payments-scenario.js';
import {
  DATE_EXPECTED,
  NS_PER_SECOND,
  DAYS_AFTER_SESSION_MAX,
  DATE_TIME_EXPECTED,
  TIME_OF_DAY_EXPECTED,
  TimeFormatError,
  formatNs,
  parseDateDays,
  parseDateTimeNs,
  parseTimeOfDayNs,
} from './scenario-time.js';
import { STRATEGY_CLORDID_BASE, STRATEGY_LIMITS, ZERO_LATENCY, type FeeRate, type LatencyDist, type StrategySpec } from './strategy/spec.js';

// ---------------------------------------------------------------------------------------------
// Public shape

export interface Scenario {
  file: string;
  name: string;
  description: string;
  seed: number;
  sessionDate: string;
  openNs: number;
  closeNs: number;
  /** One per trading day (business days when `session.days` > 1); the first is openNs/closeNs. */
  sessions: ScenarioSession[];
  instruments: Instrument[];
  accounts: ScenarioAccount[];
  /** levels: depth of the L2 view (0 = no L2); snapshotEveryNs: a full L2 snapshot in the stream this often during the session (0 = never). */
  marketData: { quotes: boolean; levels: number; snapshotEveryNs: number };
  feeds: FeedSpec[];
  /** In file order, which is also time order (non-decreasing atNs). */
  actions: ScenarioAction[];
  /** Deposits, withdrawals, banks and reconciliation (sim/payments-scenario.ts); null when absent. */
  payments: PaymentsConfig | null;
  /** Accounts, risk, margin and settlement (engine/back-office.ts); null when the scenario uses none of it. */
  backOffice: BackOfficeSpec | null;
  /** Strategies under test (sim/strategy/), in file order. */
  strategies: StrategySpec[];
  /** The parsed JSON, for the copy in a run directory. */
  raw: unknown;
}

export interface ScenarioAccount {
  index: number;
  name: string;
  stp: StpMode;
}

export interface ScenarioSession {
  /** Epoch day (engine/calendar.ts). */
  day: number;
  openNs: number;
  closeNs: number;
}

/** A kill switch thrown by a scenario action; `firm` -1 = an account's own switch. */
export interface KillSwitchAction {
  index: number;
  path: string;
  atNs: number;
  account: number;
  firm: number;
  on: boolean;
}

/** A price from the mark feed of an instrument marked to "feed" (a `mark` action). */
export interface MarkAction {
  index: number;
  path: string;
  atNs: number;
  instrument: number;
  priceTicks: number;
}

export interface BackOfficeSpec {
  currencies: Currency[];
  instruments: BackOfficeInstrument[];
  accounts: BackOfficeAccount[];
  firms: RiskFirmConfig[];
  firmNames: string[];
  holidays: string[];
  settlementDays: number;
  scenarioDay: number;
  jobRetryNs: number;
  jobMaxAttempts: number;
  jobFaults: Record<string, number>;
  killSwitches: KillSwitchAction[];
  /** The scenario's mark actions, in time order. */
  marks: MarkAction[];
  /** Minor-unit digits of each account's currency (for money in events). */
  moneyExponents: number[];
}

/** Zero-intelligence Poisson flow around a moving reference price, for one instrument. */
export interface SyntheticFeedSpec {
  kind: 'synthetic';
  instrument: number;
  account: number;
  ordersMax: number;
  limitRatePerSec: number;
  cancelRatePerSec: number;
  marketRatePerSec: number;
  tickVolatility: number;
  depthTicks: number;
  sizeMinLots: number;
  sizeMaxLots: number;
  dayOrderFraction: number;
  referencePriceTicks: number;
  startNs: number;
  endNs: number;
  /** The feed's own clOrdIds start here, far above any action ref's clOrdId of the same account. */
  clOrdIdStart: number;
  /** Name of the feed's seeded random stream, e.g. "feed/0/ACME". */
  purpose: string;
}

/** Recorded market data replayed into one instrument (sim/feeds/replay-feed.ts); paths are resolved. */
export interface ReplayFeedCommon {
  /** How recorded cancels at an own order's price move its queue position. */
  queueModel: QueueModel;
  /** Where to write the malformed rows (resolved path), or null. */
  deadLetter: string | null;
  /** "feeds[2]", for messages. */
  path: string;
}
export type LobsterFeedSpec = { kind: 'lobster' } & LobsterFeedParams & ReplayFeedCommon;
export type TardisFeedSpec = { kind: 'tardis' } & TardisFeedParams & ReplayFeedCommon;

export type FeedSpec = SyntheticFeedSpec | LobsterFeedSpec | TardisFeedSpec;

export interface ScenarioAction {
  index: number;
  /** "actions[3]", for messages and the audit log. */
  path: string;
  atNs: number;
  /** clOrdId is assigned per account from the ref: 1, 2, ... in order of first appearance. */
  command: Command;
  ref: string;
}

/** Named limits: exceeding one is an error with its reason, never unbounded growth. */
export const SCENARIO_LIMITS = {
  fileBytesMax: 256 * 1024 * 1024,
  jsonDepthMax: 64,
  nameLengthMax: 64,
  descriptionLengthMax: 10_000,
  instrumentsMax: 1_000,
  accountsMax: 100_000,
  feedsMax: 1_000,
  actionsMax: 1_000_000,
  firmsMax: 10_000,
  sessionDaysMax: 60,
  holidaysMax: 1_000,
  settlementDaysMax: 10,
  jobAttemptsMax: 10,
  refLengthMax: 64,
  feedOrdersMax: 50_000_000,
  marketDataLevelsMax: 50,
  priceBandBpsMax: 100_000,
  depthTicksMax: 1_000_000,
  /** Prices in ticks and sizes in lots fit an Int32 so the core may keep them in Int32Arrays. */
  priceTicksMax: 0x7fff_ffff,
  sizeLotsMax: 0x7fff_ffff,
  /** Messages shown at once; the rest are counted. */
  errorsShownMax: 10,
} as const;

/** Feed f's clOrdIds start at FEED_CLORDID_BASE * (f + 1), above any action's (at most actionsMax per account). */
export const FEED_CLORDID_BASE = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// Pass 1: JSON syntax

interface JsonProblem {
  offset: number;
  message: string;
}

/**
 * A strict RFC 8259 scanner that only validates: it returns the first problem with its
 * offset, or null. Values are then built by JSON.parse, which is faster and exact.
 */
function scanJson(text: string): JsonProblem | null {
  let i = 0;
  const n = text.length;
  const fail = (message: string, at = i): JsonProblem => ({ offset: at, message });
  const found = (): string => (i >= n ? 'end of file' : JSON.stringify(text[i]));
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = (): JsonProblem | null => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('invalid \\u escape in string (expected 4 hex digits)');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return fail(`invalid escape ${JSON.stringify('\\' + (e ?? ''))} in string`);
        }
        continue;
      }
      if (c < 0x20) return fail('control character in string (write newlines and tabs as \\n and \\t)');
      i++;
    }
    return fail('unterminated string (expected a closing ")', n);
  };
  const num = (): JsonProblem | null => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') return fail(`invalid number starting at ${found()}`);
    const next = text[i + m[0].length];
    if (next !== undefined && /[0-9.eE+\-a-zA-Z]/.test(next)) return fail(`invalid number ${JSON.stringify(text.slice(i, i + m[0].length + 1))}`);
    i += m[0].length;
    return null;
  };
  const value = (depth: number): JsonProblem | null => {
    ws();
    if (i >= n) return fail('unexpected end of file (expected a value)');
    const c = text[i]!;
    if (c === '{' || c === '[') {
      if (depth >= SCENARIO_LIMITS.jsonDepthMax) return fail(`nested deeper than ${SCENARIO_LIMITS.jsonDepthMax} levels`);
      return c === '{' ? object(depth + 1) : array(depth + 1);
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return null;
      }
    }
    if (c === "'") return fail('unexpected "\'" (JSON strings use double quotes)');
    return fail(`unexpected ${found()} (expected a value: object, array, string, number, true, false or null)`);
  };
  const object = (depth: number): JsonProblem | null => {
    i++;
    const keys = new Set<string>();
    ws();
    if (text[i] === '}') {
      i++;
      return null;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        if (text[i] === '}') return fail('unexpected "}" after "," (JSON does not allow a trailing comma)');
        return fail(`unexpected ${found()} (expected a field name in double quotes)`);
      }
      const keyAt = i;
      const p = str();
      if (p) return p;
      const key = JSON.parse(text.slice(keyAt, i)) as string;
      if (keys.has(key)) return fail(`duplicate field ${JSON.stringify(key)}`, keyAt);
      keys.add(key);
      ws();
      if (text[i] !== ':') return fail(`unexpected ${found()} (expected ":" after the field name)`);
      i++;
      const v = value(depth);
      if (v) return v;
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return null;
      }
      return fail(`unexpected ${found()} (expected "," or "}")`);
    }
  };
  const array = (depth: number): JsonProblem | null => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return null;
    }
    for (;;) {
      ws();
      if (text[i] === ']') return fail('unexpected "]" after "," (JSON does not allow a trailing comma)');
      const v = value(depth);
      if (v) return v;
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return null;
      }
      return fail(`unexpected ${found()} (expected "," or "]")`);
    }
  };
  const p = value(0);
  if (p) return p;
  ws();
  if (i < n) return fail(`unexpected ${found()} after the end of the JSON value`);
  return null;
}

/** 1-based line and column (in characters) of a UTF-16 offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, col: Array.from(text.slice(lineStart, offset)).length + 1 };
}

// ---------------------------------------------------------------------------------------------
// Pass 2: shape

const DECIMAL_RE = /^\d+(?:\.\d+)?$/;

/** Currencies an account or instrument may name, with the digits of their minor unit. */
export const CURRENCY_EXPONENT: Readonly<Record<string, number>> = { USD: 2, EUR: 2, GBP: 2, CHF: 2, CAD: 2, AUD: 2, JPY: 0 };
const SYMBOL_RE = /^[A-Za-z0-9._-]{1,16}$/;
const ACCOUNT_ID_RE = /^[A-Za-z0-9._-]{1,32}$/;
const NAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${SCENARIO_LIMITS.nameLengthMax - 1}}$`);

function decimal(example: string, positive = false) {
  return str(`a ${positive ? 'positive ' : ''}decimal string like ${JSON.stringify(example)}`, DECIMAL_RE, 40);
}

const symbolRef = str('an instrument symbol (a string)', undefined, 100);
const accountRef = str('an account id (a string)', undefined, 100);
const atTime = str(DATE_TIME_EXPECTED, undefined, 100);
const L = SCENARIO_LIMITS;

const instrumentSchema = obj(
  {
    symbol: str('a symbol of 1 to 16 letters, digits, ".", "_" or "-", like "ACME"', SYMBOL_RE),
    tickSize: decimal('0.01'),
    lotSize: decimal('1'),
    referencePrice: decimal('100.00'),
    priceBandBps: int(0, L.priceBandBpsMax).default(0),
    currency: str('a currency code, one of ' + Object.keys(CURRENCY_EXPONENT).join(', '), undefined, 8).optional(),
    multiplier: decimal('50').optional(),
    fees: obj(
      { makerBps: num(-10_000, 10_000, 'a number of basis points from -10000 to 10000 (negative = rebate)'), takerBps: num(-10_000, 10_000, 'a number of basis points from -10000 to 10000') },
      'an object like {"makerBps": -0.2, "takerBps": 0.3}',
    ).optional(),
    margin: z
      .discriminatedUnion(
        'style',
        [
          obj({ style: z.literal('equity'), initialBps: int(0, 10_000).default(5_000), maintenanceBps: int(0, 10_000).default(2_500) }, 'an object like {"style": "equity", "initialBps": 5000, "maintenanceBps": 2500}'),
          obj({ style: z.literal('futures'), initial: decimal('5000.00'), maintenance: decimal('4000.00') }, 'an object like {"style": "futures", "initial": "5000.00", "maintenance": "4000.00"}'),
        ],
        { error: (iss) => (iss.code === 'invalid_union' ? 'one of "equity", "futures"' : 'a margin object like {"style": "equity"}') },
      )
      .optional(),
    markTo: oneOf(['last', 'mid', 'feed']).optional(),
  },
  'an instrument object like {"symbol": "ACME", "tickSize": "0.01", "lotSize": "1", "referencePrice": "100.00"}',
);

const limitsSchema = obj(
  {
    maxOrderLots: int(1, L.sizeLotsMax).optional(),
    maxOrderNotional: decimal('1000000.00').optional(),
    collarBps: int(0, 100_000).optional(),
    positions: z
      .record(
        z.string(),
        obj({ long: decimal('1000').optional(), short: decimal('1000').optional() }, 'an object like {"long": "1000", "short": "500"}'),
        { error: 'an object from instrument symbol to {"long": "...", "short": "..."}' },
      )
      .optional(),
    maxGrossExposure: decimal('5000000.00').optional(),
    maxNetExposure: decimal('2000000.00').optional(),
    maxOpenOrders: int(1, 10_000_000).optional(),
    maxOrdersPerSecond: int(1, 10_000_000).optional(),
    useUnsettledFraction: num(0, 1, 'a number from 0 to 1').optional(),
  },
  'a limits object like {"maxOrderLots": 1000, "maxOpenOrders": 50}',
);

const firmSchema = obj(
  {
    id: str('a firm id of 1 to 32 letters, digits, ".", "_" or "-", like "acme-capital"', ACCOUNT_ID_RE),
    limits: limitsSchema.optional(),
  },
  'a firm object like {"id": "acme-capital"}',
);

const accountSchema = obj(
  {
    id: str('an account id of 1 to 32 letters, digits, ".", "_" or "-", like "alice"', ACCOUNT_ID_RE),
    stp: oneOf(STP_NAME).default('none'),
    type: oneOf(['cash', 'margin']).optional(),
    firm: str('a firm id (a string)', undefined, 100).optional(),
    cash: decimal('100000.00').optional(),
    currency: str('a currency code, one of ' + Object.keys(CURRENCY_EXPONENT).join(', '), undefined, 8).optional(),
    limits: limitsSchema.optional(),
  },
  'an account object like {"id": "alice"}',
);

const marketDataSchema = obj(
  {
    quotes: bool().default(true),
    levels: int(0, L.marketDataLevelsMax).default(0),
    snapshotEverySeconds: int(0, 86_400).default(0),
  },
  'an object like {"quotes": true, "levels": 5, "snapshotEverySeconds": 60}',
).default({ quotes: true, levels: 0, snapshotEverySeconds: 0 });

const rate = num(0, null, 'a non-negative number of orders per second');

const syntheticFeedSchema = obj(
  {
    type: z.literal('synthetic'),
    instrument: symbolRef,
    account: accountRef,
    orders: int(1, L.feedOrdersMax),
    rates: obj({ limit: rate.default(0), cancel: rate.default(0), market: rate.default(0) }, 'an object like {"limit": 50, "cancel": 45, "market": 5}'),
    volatilityTicks: num(0, null, 'a non-negative number of ticks'),
    depthTicks: int(1, L.depthTicksMax),
    size: obj({ min: decimal('1', true), max: decimal('10', true) }, 'an object like {"min": "1", "max": "10"}'),
    dayOrderFraction: num(0, 1, 'a number from 0 to 1').default(0),
    start: atTime.optional(),
    end: atTime.optional(),
  },
  'a feed object',
);

const filePath = str('a file path (relative to the scenario file)', /^.+$/s, 4096);
const replayCommon = {
  instrument: symbolRef,
  deadLetter: filePath.optional(),
  strict: bool().default(false),
  queueModel: oneOf(QUEUE_MODEL_NAME).default('pessimistic'),
};
const lobsterFeedSchema = obj(
  {
    type: z.literal('lobster'),
    ...replayCommon,
    messages: filePath,
    orderbook: filePath,
    levels: int(1, 1000),
  },
  'a LOBSTER feed object like {"type": "lobster", "instrument": "AAPL", "messages": "m.csv", "orderbook": "b.csv", "levels": 50}',
);
const tardisFeedSchema = obj(
  {
    type: z.literal('tardis'),
    ...replayCommon,
    l2: filePath,
    trades: filePath.optional(),
  },
  'a Tardis feed object like {"type": "tardis", "instrument": "BTCUSDT", "l2": "book.csv", "trades": "trades.csv"}',
);

const FEED_TYPES = ['synthetic', 'lobster', 'tardis'] as const;
const feedSchema = z.discriminatedUnion('type', [syntheticFeedSchema, lobsterFeedSchema, tardisFeedSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? `one of ${FEED_TYPES.map((t) => JSON.stringify(t)).join(', ')}` : 'a feed object like {"type": "synthetic", ...}'),
});

const refSchema = str(`a non-empty string of at most ${L.refLengthMax} characters naming the order, like "a1"`, /^.+$/s, L.refLengthMax);

const submitSchema = obj(
  {
    at: atTime,
    type: z.literal('submit'),
    account: accountRef,
    ref: refSchema,
    instrument: symbolRef,
    side: oneOf(SIDE_NAME),
    orderType: oneOf(ORDER_TYPE_NAME),
    price: decimal('100.00', true).optional(),
    stopPrice: decimal('99.50', true).optional(),
    size: decimal('10', true),
    tif: oneOf(TIF_NAME).optional(),
    postOnly: bool().optional(),
    stp: oneOf(STP_NAME).optional(),
  },
  'a submit action object',
);

const cancelSchema = obj({ at: atTime, type: z.literal('cancel'), account: accountRef, ref: refSchema }, 'a cancel action object');

const modifySchema = obj(
  {
    at: atTime,
    type: z.literal('modify'),
    account: accountRef,
    ref: refSchema,
    price: decimal('100.00', true).optional(),
    size: decimal('10', true),
  },
  'a modify action object',
);

const killSwitchSchema = obj(
  { at: atTime, type: z.literal('killSwitch'), account: accountRef.optional(), firm: str('a firm id (a string)', undefined, 100).optional(), on: bool().default(true) },
  'a killSwitch action object like {"at": "10:00:00", "type": "killSwitch", "account": "alice", "on": true}',
);

const markSchema = obj(
  { at: atTime, type: z.literal('mark'), instrument: symbolRef, price: decimal('4501.25', true) },
  'a mark action object like {"at": "15:59:00", "type": "mark", "instrument": "ESZ6", "price": "4501.25"}',
);

const ACTION_TYPES = ['submit', 'cancel', 'modify', 'killSwitch', 'mark'] as const;
const actionSchema = z.discriminatedUnion('type', [submitSchema, cancelSchema, modifySchema, killSwitchSchema, markSchema], {
  error: (iss) =>
    iss.code === 'invalid_union' ? `one of ${ACTION_TYPES.map((t) => JSON.stringify(t)).join(', ')}` : 'an action object like {"at": "09:30:00", "type": "submit", ...}',
});

const latencyNs = int(0, STRATEGY_LIMITS.latencyNsMax, `a whole number of nanoseconds from 0 to ${STRATEGY_LIMITS.latencyNsMax}`);
const LATENCY_TYPES = ['constant', 'uniform', 'lognormal'] as const;
const latencySchema = z.discriminatedUnion(
  'type',
  [
    obj({ type: z.literal('constant'), ns: latencyNs }, 'a latency like {"type": "constant", "ns": 50000}'),
    obj({ type: z.literal('uniform'), minNs: latencyNs, maxNs: latencyNs }, 'a latency like {"type": "uniform", "minNs": 20000, "maxNs": 80000}'),
    obj(
      { type: z.literal('lognormal'), medianNs: latencyNs, sigma: num(0, 5, 'a number from 0 to 5'), maxNs: latencyNs.optional() },
      'a latency like {"type": "lognormal", "medianNs": 50000, "sigma": 0.5}',
    ),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? `one of ${LATENCY_TYPES.map((t) => JSON.stringify(t)).join(', ')}` : 'a latency object like {"type": "constant", "ns": 50000}',
  },
);
const feeRateSchema = obj(
  { makerBps: num(-10_000, 10_000, 'a number of basis points from -10000 to 10000'), takerBps: num(-10_000, 10_000, 'a number of basis points from -10000 to 10000') },
  'an object like {"makerBps": -0.2, "takerBps": 0.5}',
);
const strategySchema = obj(
  {
    module: str('a path to the strategy module (.ts or .js), relative to the scenario file, like "../strategies/market-maker.ts"', /\.(?:[cm]?ts|[cm]?js)$/, 4096),
    name: str('a name of 1 to 32 letters, digits, ".", "_" or "-", like "mm"', ACCOUNT_ID_RE).optional(),
    account: accountRef,
    instruments: list(symbolRef, 'instrument symbols', L.instrumentsMax, 1).optional(),
    params: z.record(z.string(), z.unknown(), { error: 'an object of parameters like {"spreadTicks": 2}' }).default({}),
    latency: obj({ feed: latencySchema.optional(), order: latencySchema.optional(), ack: latencySchema.optional() }, 'an object like {"feed": {...}, "order": {...}, "ack": {...}}').default({}),
    // Optional rather than defaulted: with accounts the venue's schedule applies, and a strategy fee there is an error.
    fees: feeRateSchema.optional(),
    instrumentFees: z.record(z.string(), feeRateSchema, { error: 'an object like {"ACME": {"makerBps": -0.2, "takerBps": 0.5}}' }).optional(),
    sampleMs: int(STRATEGY_LIMITS.sampleNsMin / 1e6, 86_400_000).default(1000),
  },
  'a strategy object like {"module": "../strategies/market-maker.ts", "account": "mm"}',
);

const scenarioSchema = obj(
  {
    name: str(`a name of 1 to ${L.nameLengthMax} letters, digits, ".", "_" or "-" starting with a letter or digit, like "quickstart"`, NAME_RE),
    description: str(`a string of at most ${L.descriptionLengthMax} characters`, undefined, L.descriptionLengthMax).default(''),
    seed: int(0, Number.MAX_SAFE_INTEGER, `a non-negative whole number up to ${Number.MAX_SAFE_INTEGER}`),
    session: obj(
      {
        date: str(DATE_EXPECTED, undefined, 100),
        open: str(TIME_OF_DAY_EXPECTED, undefined, 100),
        close: str(TIME_OF_DAY_EXPECTED, undefined, 100),
        days: int(1, L.sessionDaysMax).default(1),
      },
      'an object like {"date": "2026-01-05", "open": "09:30:00", "close": "16:00:00"}',
    ),
    firms: list(firmSchema, 'firms', L.firmsMax).optional(),
    calendar: obj(
      {
        holidays: list(str(DATE_EXPECTED, undefined, 100), 'dates', L.holidaysMax).default([]),
        settlementDays: int(0, L.settlementDaysMax).default(1),
      },
      'an object like {"holidays": ["2026-01-19"], "settlementDays": 1}',
    ).optional(),
    endOfDay: obj(
      {
        retryAfterSeconds: int(1, 86_400).default(60),
        maxAttempts: int(1, L.jobAttemptsMax).default(3),
        faults: z.partialRecord(oneOf(['mark-to-market', 'margin-calls', 'settlement', 'statements']), int(0, L.jobAttemptsMax), { error: 'an object from job name to failing attempts' }).default({}),
      },
      'an object like {"retryAfterSeconds": 60, "maxAttempts": 3}',
    ).optional(),
    instruments: list(instrumentSchema, 'instruments', L.instrumentsMax, 1),
    accounts: list(accountSchema, 'accounts', L.accountsMax),
    marketData: marketDataSchema,
    feeds: list(feedSchema, 'feeds', L.feedsMax).default([]),
    actions: list(actionSchema, 'actions', L.actionsMax).default([]),
    payments: paymentsSchema.optional(),
    strategies: list(strategySchema, 'strategies', STRATEGY_LIMITS.strategiesMax).default([]),
  },
  'a JSON object with the scenario sections (name, seed, session, instruments, accounts, ...)',
);

type ScenarioFile = z.infer<typeof scenarioSchema>;

/** "instruments[0].tickSize"; keys that are not identifiers are quoted: `a["odd key"]`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === '' ? 'top level' : out;
}

/** What was found, short enough for one line. */
function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} ${v.length === 1 ? 'entry' : 'entries'}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  // JSON.parse turns 1e400 into Infinity: show that it was out of range, not "Infinity".
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v < 0 ? 'a negative' : 'a'} number beyond the range of a double (parsed as ${v})`;
  return String(v);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let x = 1; x <= a.length; x++) {
    let diag = row[0]!;
    row[0] = x;
    for (let y = 1; y <= b.length; y++) {
      const up = row[y]!;
      row[y] = Math.min(up + 1, row[y - 1]! + 1, diag + (a[x - 1]!.toLowerCase() === b[y - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function issueMessages(issue: z.core.$ZodIssue, raw: unknown): { path: string; what: string }[] {
  if (issue.code === 'unrecognized_keys') {
    const known = issue.message.startsWith(KNOWN_FIELDS) ? issue.message.slice(KNOWN_FIELDS.length).split(', ') : [];
    return issue.keys.map((key) => {
      const near = known.filter((k) => editDistance(k, key) <= 2).sort((a, b) => editDistance(a, key) - editDistance(b, key))[0];
      const hint = near !== undefined ? `; did you mean ${JSON.stringify(near)}?` : known.length > 0 ? `; expected one of: ${known.join(', ')}` : '';
      return { path: formatJsonPath([...issue.path, key]), what: `unknown field${hint}` };
    });
  }
  const found = valueAt(raw, issue.path);
  const what = found === undefined ? `missing; expected ${issue.message}` : `expected ${issue.message}, got ${showValue(found)}`;
  return [{ path: formatJsonPath(issue.path), what }];
}

// ---------------------------------------------------------------------------------------------
// Pass 3: meaning

/** Collects located problems in document order; throws them together. */
class Problems {
  readonly lines: string[] = [];
  count = 0;
  constructor(readonly file: string) {}
  private readonly seen = new Set<string>();
  add(path: string, what: string): void {
    // One value can fail two checks of the same expectation (e.g. not whole and too large): say it once.
    const line = `${this.file}: ${path}: ${what}`;
    if (this.seen.has(line)) return;
    this.seen.add(line);
    this.count++;
    if (this.lines.length < SCENARIO_LIMITS.errorsShownMax) this.lines.push(line);
  }
  throwIfAny(): void {
    if (this.count === 0) return;
    const more = this.count - this.lines.length;
    const text = more > 0 ? [...this.lines, `${this.file}: ... and ${more} more ${more === 1 ? 'error' : 'errors'}`].join('\n') : this.lines.join('\n');
    throw new UserError(text);
  }
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((s) => JSON.stringify(s));
  if (names.length > 8) shown.push('...');
  return names.length === 0 ? 'none are defined' : `expected one of ${shown.join(', ')}`;
}

function timeMessage(e: unknown): string {
  if (e instanceof TimeFormatError) return e.message;
  throw e;
}

function checkSeedOverride(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new UserError(`--seed: expected a non-negative whole number up to ${Number.MAX_SAFE_INTEGER}, got ${showValue(seed)}`);
  }
  return seed;
}

interface InstrumentDraft {
  symbol: string;
  tickSize: string;
  lotSize: string;
  /** False when the tick or lot size is unusable: prices and sizes on it are then not checked again. */
  usable: boolean;
  instrument: Instrument | null;
}

/**
 * Convert a positive decimal string to whole units (ticks, lots). Reports and returns -1
 * when it is zero, off the unit, or too large.
 */
function units(p: Problems, path: string, value: string, unit: string, unitName: string, symbol: string, max: number, example: string): number {
  let n: number;
  try {
    n = toUnits(value, unit);
  } catch {
    p.add(path, `${JSON.stringify(value)} is too large`);
    return -1;
  }
  if (Number.isNaN(n)) {
    p.add(path, `${JSON.stringify(value)} is not a whole multiple of the ${unitName} ${JSON.stringify(unit)} of ${symbol}`);
    return -1;
  }
  if (n <= 0) {
    p.add(path, `expected a positive decimal string like ${JSON.stringify(example)}, got ${JSON.stringify(value)}`);
    return -1;
  }
  if (n > max) {
    p.add(path, `${JSON.stringify(value)} is ${n} ${unitName === 'tick size' ? 'ticks' : 'lots'}; at most ${max} are allowed`);
    return -1;
  }
  return n;
}

function isPositiveDecimal(s: string): boolean {
  return /[1-9]/.test(s);
}

function normalise(f: ScenarioFile, file: string, raw: unknown, overrides: { seed?: number } | undefined): Scenario {
  const p = new Problems(file);
  const seed = overrides?.seed !== undefined ? checkSeedOverride(overrides.seed) : f.seed;

  // Session
  let sessionOk = true;
  try {
    parseDateDays(f.session.date);
  } catch (e) {
    p.add('session.date', timeMessage(e));
    sessionOk = false;
  }
  let openNs = 0;
  let closeNs = 0;
  try {
    openNs = parseTimeOfDayNs(f.session.open);
  } catch (e) {
    p.add('session.open', timeMessage(e));
    sessionOk = false;
  }
  try {
    closeNs = parseTimeOfDayNs(f.session.close);
  } catch (e) {
    p.add('session.close', timeMessage(e));
    sessionOk = false;
  }
  if (sessionOk && closeNs <= openNs) {
    p.add('session.close', `expected a time after session.open ${JSON.stringify(f.session.open)}, got ${JSON.stringify(f.session.close)}`);
  }

  // Instruments
  const drafts: InstrumentDraft[] = [];
  const instrumentBySymbol = new Map<string, number>();
  const symbolSeen = new Map<string, number>();
  f.instruments.forEach((ins, i) => {
    const at = `instruments[${i}]`;
    const folded = ins.symbol.toUpperCase();
    const first = symbolSeen.get(folded);
    if (first !== undefined) {
      p.add(`${at}.symbol`, `${JSON.stringify(ins.symbol)} is already used by instruments[${first}] (symbols are compared ignoring case)`);
    } else {
      symbolSeen.set(folded, i);
    }
    let usable = true;
    for (const key of ['tickSize', 'lotSize'] as const) {
      if (!isPositiveDecimal(ins[key])) {
        p.add(`${at}.${key}`, `expected a positive decimal string like ${key === 'tickSize' ? '"0.01"' : '"1"'}, got ${JSON.stringify(ins[key])}`);
        usable = false;
      }
    }
    const draft: InstrumentDraft = { symbol: ins.symbol, tickSize: ins.tickSize, lotSize: ins.lotSize, usable, instrument: null };
    if (usable) {
      const ref = units(p, `${at}.referencePrice`, ins.referencePrice, ins.tickSize, 'tick size', ins.symbol, L.priceTicksMax, '100.00');
      if (ref > 0) {
        const instrument: Instrument = {
          index: i,
          symbol: ins.symbol,
          tickSize: ins.tickSize,
          lotSize: ins.lotSize,
          referencePriceTicks: ref,
          priceBandBps: ins.priceBandBps,
        };
        checkInstrument(instrument);
        draft.instrument = instrument;
      }
    }
    drafts.push(draft);
    if (first === undefined) instrumentBySymbol.set(ins.symbol, i);
  });
  const symbols = f.instruments.map((x) => x.symbol);

  // Accounts
  const accounts: ScenarioAccount[] = [];
  const accountById = new Map<string, number>();
  const accountSeen = new Map<string, number>();
  f.accounts.forEach((acc, i) => {
    const folded = acc.id.toLowerCase();
    const first = accountSeen.get(folded);
    if (first !== undefined) {
      p.add(`accounts[${i}].id`, `${JSON.stringify(acc.id)} is already used by accounts[${first}] (ids are compared ignoring case)`);
      return;
    }
    accountSeen.set(folded, i);
    accountById.set(acc.id, i);
    accounts.push({ index: i, name: acc.id, stp: STP_NAME.indexOf(acc.stp) as StpMode });
  });
  const accountIds = f.accounts.map((a) => a.id);

  const lookupInstrument = (path: string, symbol: string): InstrumentDraft | null => {
    const idx = instrumentBySymbol.get(symbol);
    if (idx === undefined) {
      p.add(path, `unknown instrument ${JSON.stringify(symbol)}; ${listNames(symbols)}`);
      return null;
    }
    return drafts[idx]!;
  };
  const lookupAccount = (path: string, id: string): number => {
    const idx = accountById.get(id);
    if (idx === undefined) {
      p.add(path, `unknown account ${JSON.stringify(id)}; ${listNames(accountIds)}`);
      return -1;
    }
    return idx;
  };
  const parseAt = (path: string, s: string): number => {
    if (!sessionOk) return -1;
    try {
      return parseDateTimeNs(f.session.date, s);
    } catch (e) {
      p.add(path, timeMessage(e));
      return -1;
    }
  };

  // Feeds
  const feeds: FeedSpec[] = [];
  const replayedBy = new Map<number, string>();
  const baseDir = dirname(resolve(file));
  f.feeds.forEach((feed, k) => {
    const at = `feeds[${k}]`;
    if (feed.type !== 'synthetic') {
      const ins = lookupInstrument(`${at}.instrument`, feed.instrument);
      const inputFile = (key: string, rel: string): string => {
        const abs = resolve(baseDir, rel);
        if (!existsSync(abs)) p.add(`${at}.${key}`, `cannot read ${JSON.stringify(rel)}: no such file (${abs})`);
        else if (statSync(abs).isDirectory()) p.add(`${at}.${key}`, `cannot read ${JSON.stringify(rel)}: is a directory`);
        return abs;
      };
      const idx = ins?.instrument?.index;
      if (idx !== undefined) {
        const other = replayedBy.get(idx);
        if (other !== undefined) p.add(`${at}.instrument`, `${JSON.stringify(feed.instrument)} is already replayed by ${other}; one recorded market per instrument`);
        replayedBy.set(idx, at);
      }
      const common: ReplayFeedCommon = {
        queueModel: QUEUE_MODEL_NAME.indexOf(feed.queueModel) as QueueModel,
        deadLetter: feed.deadLetter === undefined ? null : resolve(baseDir, feed.deadLetter),
        path: at,
      };
      if (feed.type === 'lobster') {
        const messages = inputFile('messages', feed.messages);
        const orderbook = inputFile('orderbook', feed.orderbook);
        if (ins?.usable && ins.instrument) {
          feeds.push({ kind: 'lobster', ...common, instrument: ins.instrument.index, messages, orderbook, levels: feed.levels, strict: feed.strict, tickSize: ins.tickSize, lotSize: ins.lotSize });
        }
      } else {
        const l2 = inputFile('l2', feed.l2);
        const trades = feed.trades === undefined ? null : inputFile('trades', feed.trades);
        if (ins?.usable && ins.instrument && sessionOk) {
          const dayStartUs = parseDateDays(f.session.date) * 86_400_000_000;
          feeds.push({ kind: 'tardis', ...common, instrument: ins.instrument.index, l2, trades, strict: feed.strict, tickSize: ins.tickSize, lotSize: ins.lotSize, dayStartUs });
        }
      }
      return;
    }
    const ins = lookupInstrument(`${at}.instrument`, feed.instrument);
    const account = lookupAccount(`${at}.account`, feed.account);
    const { limit, cancel, market } = feed.rates;
    if (limit + cancel + market <= 0) p.add(`${at}.rates`, 'expected at least one positive rate, got all zero');
    let minLots = -1;
    let maxLots = -1;
    if (ins?.usable) {
      minLots = units(p, `${at}.size.min`, feed.size.min, ins.lotSize, 'lot size', ins.symbol, L.sizeLotsMax, '1');
      maxLots = units(p, `${at}.size.max`, feed.size.max, ins.lotSize, 'lot size', ins.symbol, L.sizeLotsMax, '10');
      if (minLots > 0 && maxLots > 0 && maxLots < minLots) {
        p.add(`${at}.size.max`, `expected at least size.min ${JSON.stringify(feed.size.min)}, got ${JSON.stringify(feed.size.max)}`);
      }
    }
    const startNs = feed.start === undefined ? openNs : parseAt(`${at}.start`, feed.start);
    const endNs = feed.end === undefined ? closeNs : parseAt(`${at}.end`, feed.end);
    // With both defaulted the session check above already covers it.
    const explicit = feed.start !== undefined || feed.end !== undefined;
    if (explicit && startNs >= 0 && endNs >= 0 && sessionOk && endNs <= startNs) {
      p.add(feed.end === undefined ? `${at}.start` : `${at}.end`, `the feed must end after it starts (start ${formatNs(startNs, f.session.date)}, end ${formatNs(endNs, f.session.date)})`);
    }
    if (ins?.instrument && account >= 0) {
      feeds.push({
        kind: 'synthetic',
        instrument: ins.instrument.index,
        account,
        ordersMax: feed.orders,
        limitRatePerSec: limit,
        cancelRatePerSec: cancel,
        marketRatePerSec: market,
        tickVolatility: feed.volatilityTicks,
        depthTicks: feed.depthTicks,
        sizeMinLots: minLots,
        sizeMaxLots: maxLots,
        dayOrderFraction: feed.dayOrderFraction,
        referencePriceTicks: ins.instrument.referencePriceTicks,
        startNs,
        endNs,
        clOrdIdStart: FEED_CLORDID_BASE * (k + 1),
        purpose: `feed/${k}/${ins.symbol}`,
      });
    }
  });

  // Actions
  interface OrderRef {
    actionIndex: number;
    clOrdId: number;
    instrument: InstrumentDraft | null;
    hasPrice: boolean;
  }
  const refsByAccount = new Map<number, Map<string, OrderRef>>();
  const actions: ScenarioAction[] = [];
  const killSwitches: KillSwitchAction[] = [];
  const marks: MarkAction[] = [];
  let prevAtNs = -1;
  let prevAtPath = '';
  let prevAt = '';
  f.actions.forEach((a, k) => {
    const at = `actions[${k}]`;
    const atNs = parseAt(`${at}.at`, a.at);
    if (atNs >= 0) {
      if (atNs < openNs) {
        p.add(`${at}.at`, `${JSON.stringify(a.at)} is before the session opens (session.open ${JSON.stringify(f.session.open)})`);
      } else if (atNs < prevAtNs) {
        p.add(`${at}.at`, `${JSON.stringify(a.at)} is earlier than ${prevAtPath}.at ${JSON.stringify(prevAt)}; actions must be in time order`);
      } else {
        prevAtNs = atNs;
        prevAtPath = at;
        prevAt = a.at;
      }
    }
    if (a.type === 'killSwitch') {
      const hasAccount = a.account !== undefined;
      const hasFirm = a.firm !== undefined;
      if (hasAccount === hasFirm) {
        p.add(at, 'a killSwitch names exactly one of "account" or "firm"');
        return;
      }
      const account = hasAccount ? lookupAccount(`${at}.account`, a.account!) : -1;
      let firm = -1;
      if (hasFirm) {
        firm = (f.firms ?? []).findIndex((x) => x.id === a.firm);
        if (firm < 0) p.add(`${at}.firm`, `unknown firm ${JSON.stringify(a.firm)}; ${listNames((f.firms ?? []).map((x) => x.id))}`);
      }
      killSwitches.push({ index: k, path: at, atNs: Math.max(atNs, 0), account, firm, on: a.on });
      return;
    }
    if (a.type === 'mark') {
      const ins = lookupInstrument(`${at}.instrument`, a.instrument);
      const markTo = f.instruments[ins?.instrument?.index ?? -1]?.markTo ?? 'last';
      if (ins?.instrument && markTo !== 'feed') {
        p.add(`${at}.instrument`, `${ins.symbol} is marked to ${JSON.stringify(markTo)}; mark actions need "markTo": "feed" on the instrument`);
      }
      let priceTicks = 0;
      if (ins?.usable) priceTicks = units(p, `${at}.price`, a.price, ins.tickSize, 'tick size', ins.symbol, L.priceTicksMax, '4501.25');
      marks.push({ index: k, path: at, atNs: Math.max(atNs, 0), instrument: ins?.instrument?.index ?? -1, priceTicks });
      return;
    }
    const account = lookupAccount(`${at}.account`, a.account);
    let refs = refsByAccount.get(account);
    if (refs === undefined) {
      refs = new Map();
      refsByAccount.set(account, refs);
    }
    const tsNs = Math.max(atNs, 0);

    if (a.type === 'submit') {
      const ins = lookupInstrument(`${at}.instrument`, a.instrument);
      const orderType = ORDER_TYPE_NAME.indexOf(a.orderType) as OrderType;
      const hasPrice = orderType === OrderType.Limit || orderType === OrderType.StopLimit;
      const isStop = orderType === OrderType.StopMarket || orderType === OrderType.StopLimit;
      if (hasPrice && a.price === undefined) p.add(`${at}.price`, `missing; a ${a.orderType} order needs a price, like "100.00"`);
      if (!hasPrice && a.price !== undefined) p.add(`${at}.price`, `not allowed on a ${a.orderType} order (it has no limit price)`);
      if (isStop && a.stopPrice === undefined) p.add(`${at}.stopPrice`, `missing; a ${a.orderType} order needs a stopPrice, like "99.50"`);
      if (!isStop && a.stopPrice !== undefined) p.add(`${at}.stopPrice`, `not allowed on a ${a.orderType} order (only stop-market and stop-limit orders have one)`);
      if (a.postOnly === true && orderType !== OrderType.Limit) p.add(`${at}.postOnly`, `not allowed on a ${a.orderType} order (only limit orders can be post-only)`);
      let priceTicks = 0;
      let stopPriceTicks = 0;
      let sizeLots = 0;
      if (ins?.usable) {
        if (hasPrice && a.price !== undefined) priceTicks = units(p, `${at}.price`, a.price, ins.tickSize, 'tick size', ins.symbol, L.priceTicksMax, '100.00');
        if (isStop && a.stopPrice !== undefined) stopPriceTicks = units(p, `${at}.stopPrice`, a.stopPrice, ins.tickSize, 'tick size', ins.symbol, L.priceTicksMax, '99.50');
        sizeLots = units(p, `${at}.size`, a.size, ins.lotSize, 'lot size', ins.symbol, L.sizeLotsMax, '10');
      }
      const earlier = refs.get(a.ref);
      if (account >= 0 && earlier !== undefined) {
        p.add(`${at}.ref`, `${JSON.stringify(a.ref)} is already used by actions[${earlier.actionIndex}] of account ${JSON.stringify(a.account)}; refs must be unique per account`);
      }
      const clOrdId = refs.size + 1;
      if (earlier === undefined) refs.set(a.ref, { actionIndex: k, clOrdId, instrument: ins, hasPrice });
      const tif = a.tif !== undefined ? (TIF_NAME.indexOf(a.tif) as TimeInForce) : orderType === OrderType.Market ? TimeInForce.IOC : TimeInForce.GTC;
      const command: Command = {
        type: 'submit',
        tsNs,
        instrument: ins?.instrument?.index ?? -1,
        account,
        clOrdId,
        side: SIDE_NAME.indexOf(a.side) as Side,
        orderType,
        tif,
        priceTicks,
        sizeLots,
        ...(isStop ? { stopPriceTicks } : {}),
        ...(orderType === OrderType.Limit ? { postOnly: a.postOnly ?? false } : {}),
        ...(a.stp !== undefined ? { stp: STP_NAME.indexOf(a.stp) as StpMode } : {}),
      };
      actions.push({ index: k, path: at, atNs: tsNs, command, ref: a.ref });
      return;
    }

    // Cancel and modify address an order submitted earlier in the file (hence no later in time).
    const order = account >= 0 ? refs.get(a.ref) : undefined;
    if (account >= 0 && order === undefined) {
      p.add(`${at}.ref`, `${JSON.stringify(a.ref)} does not name an earlier submit of account ${JSON.stringify(a.account)}`);
    }
    const instrument = order?.instrument?.instrument?.index ?? -1;
    const clOrdId = order?.clOrdId ?? 0;
    if (a.type === 'cancel') {
      actions.push({ index: k, path: at, atNs: tsNs, command: { type: 'cancel', tsNs, instrument, account, clOrdId }, ref: a.ref });
      return;
    }
    let priceTicks = 0;
    let sizeLots = 0;
    if (order !== undefined) {
      if (order.hasPrice && a.price === undefined) p.add(`${at}.price`, `missing; the order ${JSON.stringify(a.ref)} has a limit price, so a modify must give one, like "100.00"`);
      if (!order.hasPrice && a.price !== undefined) p.add(`${at}.price`, `not allowed: the order ${JSON.stringify(a.ref)} has no limit price`);
      const ins = order.instrument;
      if (ins?.usable) {
        if (order.hasPrice && a.price !== undefined) priceTicks = units(p, `${at}.price`, a.price, ins.tickSize, 'tick size', ins.symbol, L.priceTicksMax, '100.00');
        sizeLots = units(p, `${at}.size`, a.size, ins.lotSize, 'lot size', ins.symbol, L.sizeLotsMax, '10');
      }
    }
    actions.push({ index: k, path: at, atNs: tsNs, command: { type: 'modify', tsNs, instrument, account, clOrdId, priceTicks, sizeLots }, ref: a.ref });
  });

  const payments =
    f.payments === undefined || !sessionOk
      ? null
      : normalisePayments(f.payments, {
          sessionDate: f.session.date,
          accountIndex: (id) => accountById.get(id),
          accountIds,
          add: (path, what) => p.add(path, what),
          backOfficeCurrencies: usesBackOffice(f) ? f.accounts.map((a) => ({ code: a.currency ?? 'USD', minorExponent: CURRENCY_EXPONENT[a.currency ?? 'USD'] ?? -1 })) : null,
        });

  const sessions = sessionOk ? tradingSessions(p, f, openNs, closeNs) : [];
  // Checked whatever uses the calendar, so a bad date is a clear error, not a crash later.
  scenarioHolidays(p, f);
  const backOffice = normaliseBackOffice(p, f, drafts, killSwitches, marks, sessionOk ? parseDate(f.session.date) : 0);
  const strategies = normaliseStrategies(f, file, p, { lookupInstrument, lookupAccount, sessionOk, openNs, closeNs });

  p.throwIfAny();
  return {
    file,
    name: f.name,
    description: f.description,
    seed,
    sessionDate: f.session.date,
    openNs,
    closeNs,
    sessions,
    backOffice,
    instruments: drafts.map((d) => d.instrument!),
    accounts,
    marketData: { quotes: f.marketData.quotes, levels: f.marketData.levels, snapshotEveryNs: f.marketData.snapshotEverySeconds * NS_PER_SECOND },
    feeds,
    actions,
    payments,
    strategies,
    raw,
  };
}

/**
 * `calendar.holidays` that are real dates; each bad one is reported (path and value). The
 * schema only checks the shape, so "2026-02-30" gets here and would throw in the calendar.
 */
function scenarioHolidays(p: Problems, f: ScenarioFile): string[] {
  const good: string[] = [];
  (f.calendar?.holidays ?? []).forEach((h, k) => {
    try {
      parseDate(h);
      good.push(h);
    } catch {
      p.add(`calendar.holidays[${k}]`, `expected ${DATE_EXPECTED}, got ${JSON.stringify(h)}`);
    }
  });
  return good;
}

/** The scenario's calendar: weekends plus the valid `calendar.holidays`. */
function scenarioCalendar(p: Problems, f: ScenarioFile): BusinessCalendar {
  return new BusinessCalendar(scenarioHolidays(p, f));
}

const WEEKDAY_NAME = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** One session per trading day: the session date, then the next business days up to `session.days`. */
function tradingSessions(p: Problems, f: ScenarioFile, openNs: number, closeNs: number): ScenarioSession[] {
  const first = parseDate(f.session.date);
  if (f.session.days === 1) return [{ day: first, openNs, closeNs }];
  const cal = scenarioCalendar(p, f);
  if (!cal.isBusinessDay(first)) {
    p.add('session.date', `${JSON.stringify(f.session.date)} is a ${cal.isHoliday(first) ? 'holiday' : WEEKDAY_NAME[weekday(first)]}; a multi-day session starts on a business day`);
    return [];
  }
  const out: ScenarioSession[] = [];
  let day = first;
  for (let k = 0; k < f.session.days; k++) {
    if (k > 0) day = cal.nextBusinessDay(day);
    const off = (day - first) * CAL_NS_PER_DAY;
    if (day - first > DAYS_AFTER_SESSION_MAX) {
      p.add('session.days', `${f.session.days} business days end on ${formatDate(day)}, more than ${DAYS_AFTER_SESSION_MAX} days after session.date`);
      return [];
    }
    out.push({ day, openNs: off + openNs, closeNs: off + closeNs });
  }
  return out;
}

function unitOfExponent(e: number): string {
  return e === 0 ? '1' : `0.${'0'.repeat(e - 1)}1`;
}

/** A money decimal string in minor units of a currency; -1 (reported) when it does not fit. */
function moneyMinor(p: Problems, path: string, value: string, currency: Currency): number {
  let n: number;
  try {
    n = toUnits(value, unitOfExponent(currency.minorExponent));
  } catch {
    p.add(path, `${JSON.stringify(value)} is too large`);
    return -1;
  }
  if (Number.isNaN(n)) {
    p.add(path, `${JSON.stringify(value)} has more decimals than ${currency.code} has minor units (${currency.minorExponent})`);
    return -1;
  }
  if (!Number.isSafeInteger(n)) {
    p.add(path, `${JSON.stringify(value)} is too large`);
    return -1;
  }
  return n;
}

/** Whether the file uses any part of the back office; if not, the run has none (and no hooks). */
function usesBackOffice(f: ScenarioFile): boolean {
  return (
    f.firms !== undefined ||
    f.calendar !== undefined ||
    f.endOfDay !== undefined ||
    f.accounts.some((a) => a.type !== undefined || a.firm !== undefined || a.cash !== undefined || a.currency !== undefined || a.limits !== undefined) ||
    f.instruments.some((i) => i.fees !== undefined || i.margin !== undefined || i.markTo !== undefined || i.currency !== undefined || i.multiplier !== undefined) ||
    f.actions.some((a) => a.type === 'killSwitch' || a.type === 'mark')
  );
}

function normaliseBackOffice(
  p: Problems,
  f: ScenarioFile,
  drafts: InstrumentDraft[],
  killSwitches: KillSwitchAction[],
  marks: MarkAction[],
  scenarioDay: number): BackOfficeSpec | null {
  if (!usesBackOffice(f)) return null;
  const currencies: Currency[] = [];
  const currencyIndex = (path: string, code: string | undefined): number => {
    const c = code ?? 'USD';
    const e = CURRENCY_EXPONENT[c];
    if (e === undefined) {
      p.add(path, `unknown currency ${JSON.stringify(c)}; expected one of ${Object.keys(CURRENCY_EXPONENT).join(', ')}`);
      return 0;
    }
    let k = currencies.findIndex((x) => x.code === c);
    if (k < 0) {
      k = currencies.length;
      currencies.push({ code: c, minorExponent: e });
    }
    return k;
  };
  const symbols = new Map(drafts.map((d, i) => [d.symbol, i]));
  const instruments: BackOfficeInstrument[] = [];
  f.instruments.forEach((ins, i) => {
    const at = `instruments[${i}]`;
    const cur = currencyIndex(`${at}.currency`, ins.currency);
    const d = drafts[i]!;
    if (!d.usable || d.instrument === null) return;
    const rule = notionalRule(ins.tickSize, ins.lotSize, currencies[cur]!.minorExponent, ins.multiplier ?? '1');
    const fees = ins.fees ?? { makerBps: 0, takerBps: 0 };
    for (const k of ['makerBps', 'takerBps'] as const) {
      if (Math.round(fees[k] * 100) !== fees[k] * 100) p.add(`${at}.fees.${k}`, `expected at most 2 decimals, got ${fees[k]}`);
    }
    if (fees.makerBps + fees.takerBps < 0) p.add(`${at}.fees.makerBps`, `a rebate of ${-fees.makerBps} bp is larger than the taker fee of ${fees.takerBps} bp (two accounts trading with each other would be paid by the venue)`);
    const m = ins.margin ?? { style: 'equity' as const, initialBps: 5_000, maintenanceBps: 2_500 };
    let margin = equityTerms();
    if (m.style === 'equity') {
      if (m.maintenanceBps > m.initialBps) p.add(`${at}.margin.maintenanceBps`, `expected at most initialBps ${m.initialBps}, got ${m.maintenanceBps}`);
      else margin = equityTerms(m.initialBps, m.maintenanceBps);
    } else {
      const im = moneyMinor(p, `${at}.margin.initial`, m.initial, currencies[cur]!);
      const mm = moneyMinor(p, `${at}.margin.maintenance`, m.maintenance, currencies[cur]!);
      if (im >= 0 && mm >= 0 && mm > im) p.add(`${at}.margin.maintenance`, `expected at most margin.initial ${JSON.stringify(m.initial)}, got ${JSON.stringify(m.maintenance)}`);
      else if (im >= 0 && mm >= 0) margin = futureTerms(im, mm);
    }
    const isFuture = m.style === 'futures';
    if (!isFuture && ins.multiplier !== undefined) p.add(`${at}.multiplier`, 'only futures (margin.style "futures") have a contract multiplier');
    instruments.push({
      symbol: ins.symbol,
      currency: cur,
      num: rule.num,
      den: rule.den,
      isFuture,
      makerBps: fees.makerBps,
      takerBps: fees.takerBps,
      referencePriceTicks: d.instrument.referencePriceTicks,
      margin,
      markTo: (ins.markTo ?? 'last') as MarkTo,
    });
  });

  const limits = (path: string, l: z.infer<typeof limitsSchema> | undefined, currency: Currency, isAccount: boolean): { limits: RiskLimits; instrumentLimits: InstrumentPositionLimits[]; unsettledUseBps: number } => {
    const out: { -readonly [K in keyof RiskLimits]: RiskLimits[K] } = {};
    const per: InstrumentPositionLimits[] = [];
    if (l === undefined) return { limits: out, instrumentLimits: per, unsettledUseBps: 0 };
    if (l.maxOrderLots !== undefined) out.maxOrderLots = l.maxOrderLots;
    if (l.collarBps !== undefined) out.collarBps = l.collarBps;
    if (l.maxOpenOrders !== undefined) out.maxOpenOrders = l.maxOpenOrders;
    if (l.maxOrdersPerSecond !== undefined) out.maxOrdersPerSecond = l.maxOrdersPerSecond;
    if (l.maxOrderNotional !== undefined) out.maxOrderNotionalMinor = moneyMinor(p, `${path}.maxOrderNotional`, l.maxOrderNotional, currency);
    if (l.maxGrossExposure !== undefined) out.maxGrossExposureMinor = moneyMinor(p, `${path}.maxGrossExposure`, l.maxGrossExposure, currency);
    if (l.maxNetExposure !== undefined) out.maxNetExposureMinor = moneyMinor(p, `${path}.maxNetExposure`, l.maxNetExposure, currency);
    for (const [sym, pl] of Object.entries(l.positions ?? {})) {
      const i = symbols.get(sym);
      const pp = `${path}.${formatJsonPath(['positions', sym])}`;
      if (i === undefined) {
        p.add(pp, `unknown instrument ${JSON.stringify(sym)}; ${listNames([...symbols.keys()])}`);
        continue;
      }
      const d = drafts[i]!;
      if (!d.usable) continue;
      const lot = (v: string | undefined, k: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!isPositiveDecimal(v)) return 0;
        const n = units(p, `${pp}.${k}`, v, d.lotSize, 'lot size', d.symbol, L.sizeLotsMax, '100');
        return n < 0 ? undefined : n;
      };
      const lo = lot(pl.long, 'long');
      const sh = lot(pl.short, 'short');
      per.push({ instrument: i, ...(lo !== undefined ? { maxLongLots: lo } : {}), ...(sh !== undefined ? { maxShortLots: sh } : {}) });
    }
    let unsettledUseBps = 0;
    if (l.useUnsettledFraction !== undefined) {
      if (!isAccount) p.add(`${path}.useUnsettledFraction`, 'only an account (not a firm) can spend unsettled cash');
      unsettledUseBps = Math.round(l.useUnsettledFraction * 10_000);
    }
    return { limits: out, instrumentLimits: per, unsettledUseBps };
  };

  const usd = currencies[currencyIndex('accounts', 'USD')]!;
  const firmNames = (f.firms ?? []).map((x) => x.id);
  const declaredFirms = firmNames.length;
  const firms: RiskFirmConfig[] = (f.firms ?? []).map((x, k) => {
    const r = limits(`firms[${k}].limits`, x.limits, usd, false);
    return { limits: r.limits, instrumentLimits: r.instrumentLimits };
  });
  const seenFirm = new Map<string, number>();
  firmNames.forEach((n, k) => {
    if (seenFirm.has(n)) p.add(`firms[${k}].id`, `${JSON.stringify(n)} is already used by firms[${seenFirm.get(n)}]`);
    else seenFirm.set(n, k);
  });
  const accounts: BackOfficeAccount[] = [];
  const moneyExponents: number[] = [];
  f.accounts.forEach((acc, k) => {
    const at = `accounts[${k}]`;
    const cur = currencyIndex(`${at}.currency`, acc.currency);
    const currency = currencies[cur]!;
    let firm: number;
    if (acc.firm !== undefined) {
      firm = seenFirm.get(acc.firm) ?? -1;
      if (firm < 0) {
        // Only the declared firms: accounts without a firm are pushed onto firmNames as their own firms.
        p.add(`${at}.firm`, `unknown firm ${JSON.stringify(acc.firm)}; ${listNames(firmNames.slice(0, declaredFirms))}`);
        firm = 0;
      }
    } else {
      // An account without a firm is its own firm (no firm limits), so reports still aggregate cleanly.
      firm = firms.length;
      firms.push({});
      firmNames.push(acc.id);
    }
    const r = limits(`${at}.limits`, acc.limits, currency, true);
    const depositMinor = acc.cash === undefined ? 0 : moneyMinor(p, `${at}.cash`, acc.cash, currency);
    accounts.push({
      name: acc.id,
      currency: cur,
      firm,
      type: acc.type ?? 'cash',
      limits: r.limits,
      instrumentLimits: r.instrumentLimits,
      unsettledUseBps: r.unsettledUseBps,
      depositMinor: Math.max(depositMinor, 0),
    });
    moneyExponents.push(currency.minorExponent);
  });
  instruments.forEach((ins, i) => {
    const used = accounts.some((a) => a.currency !== ins.currency);
    if (used) p.add(`instruments[${i}].currency`, `every account trades every instrument, so all must use one currency; ${ins.symbol} is in ${currencies[ins.currency]!.code}`);
  });
  const eod = f.endOfDay ?? { retryAfterSeconds: 60, maxAttempts: 3, faults: {} };
  const faults: Record<string, number> = {};
  for (const [k, v] of Object.entries(eod.faults)) if (v !== undefined) faults[k] = v;
  return {
    currencies,
    instruments,
    accounts,
    firms,
    firmNames,
    holidays: scenarioHolidays(p, f),
    settlementDays: f.calendar?.settlementDays ?? 1,
    scenarioDay,
    jobRetryNs: eod.retryAfterSeconds * 1_000_000_000,
    jobMaxAttempts: eod.maxAttempts,
    jobFaults: faults,
    killSwitches,
    marks,
    moneyExponents,
  };
}

function latencyDist(d: z.infer<typeof latencySchema> | undefined): LatencyDist {
  if (d === undefined) return ZERO_LATENCY;
  if (d.type === 'lognormal') return { type: 'lognormal', medianNs: d.medianNs, sigma: d.sigma, maxNs: d.maxNs ?? STRATEGY_LIMITS.latencyNsMax };
  return d;
}

function feeProblem(r: FeeRate): string | null {
  for (const bps of [r.makerBps, r.takerBps]) if (Math.abs(Math.round(bps * 100) - bps * 100) > 1e-6) return `expected basis points with at most 2 decimals, got ${bps}`;
  // A rebate larger than the taker fee would mint money from the venue (engine/fees.ts refuses it too).
  if (r.makerBps + r.takerBps < 0) return `the maker rebate ${-r.makerBps} bp exceeds the taker fee ${r.takerBps} bp`;
  return null;
}

function normaliseStrategies(
  f: ScenarioFile,
  file: string,
  p: Problems,
  h: {
    lookupInstrument: (path: string, symbol: string) => InstrumentDraft | null;
    lookupAccount: (path: string, id: string) => number;
    sessionOk: boolean;
    openNs: number;
    closeNs: number;
  },
): StrategySpec[] {
  const out: StrategySpec[] = [];
  const names = new Map<string, number>();
  const venueFees = usesBackOffice(f);
  if (f.strategies.length > 0 && !f.marketData.quotes) p.add('marketData.quotes', 'must be true when strategies are defined (strategies read the L1 quotes)');
  f.strategies.forEach((st, k) => {
    const at = `strategies[${k}]`;
    const account = h.lookupAccount(`${at}.account`, st.account);
    const name = st.name ?? st.account;
    const first = names.get(name.toLowerCase());
    if (first !== undefined) p.add(st.name === undefined ? `${at}.account` : `${at}.name`, `strategy name ${JSON.stringify(name)} is already used by strategies[${first}]; give one a "name"`);
    else names.set(name.toLowerCase(), k);
    const instruments: number[] = [];
    if (st.instruments === undefined) for (let i = 0; i < f.instruments.length; i++) instruments.push(i);
    else
      st.instruments.forEach((sym, j) => {
        const d = h.lookupInstrument(`${at}.instruments[${j}]`, sym);
        if (d?.instrument) instruments.push(d.instrument.index);
      });
    // With accounts the strategy's account is a venue account: it pays the instruments' fee schedule.
    if (venueFees && st.fees !== undefined) p.add(`${at}.fees`, 'the scenario has accounts, so the strategy pays the venue\'s fees (instruments[].fees); remove this field');
    if (venueFees && st.instrumentFees !== undefined) p.add(`${at}.instrumentFees`, 'the scenario has accounts, so the strategy pays the venue\'s fees (instruments[].fees); remove this field');
    const rate = st.fees ?? { makerBps: 0, takerBps: 0 };
    const base = feeProblem(rate);
    if (base) p.add(`${at}.fees`, base);
    const fees: FeeRate[] = f.instruments.map(() => rate);
    for (const [sym, r] of Object.entries(st.instrumentFees ?? {})) {
      const d = h.lookupInstrument(`${at}.${formatJsonPath(['instrumentFees', sym])}`, sym);
      const bad = feeProblem(r);
      if (bad) p.add(`${at}.${formatJsonPath(['instrumentFees', sym])}`, bad);
      if (d?.instrument) fees[d.instrument.index] = r;
    }
    const latency = { feed: latencyDist(st.latency.feed), order: latencyDist(st.latency.order), ack: latencyDist(st.latency.ack) };
    for (const key of ['feed', 'order', 'ack'] as const) {
      const d = latency[key];
      if (d.type === 'uniform' && d.maxNs < d.minNs) p.add(`${at}.latency.${key}.maxNs`, `expected at least minNs ${d.minNs}, got ${d.maxNs}`);
      if (d.type === 'lognormal' && d.maxNs < d.medianNs) p.add(`${at}.latency.${key}.maxNs`, `expected at least medianNs ${d.medianNs}, got ${d.maxNs}`);
    }
    const sampleNs = st.sampleMs * 1_000_000;
    if (h.sessionOk && (h.closeNs - h.openNs) / sampleNs > STRATEGY_LIMITS.samplesMax) {
      p.add(`${at}.sampleMs`, `${st.sampleMs} ms gives more than ${STRATEGY_LIMITS.samplesMax} samples over the session; use a longer interval`);
    }
    const moduleFile = resolve(dirname(resolve(file)), st.module);
    if (!existsSync(moduleFile)) p.add(`${at}.module`, `no such file ${JSON.stringify(st.module)} (resolved against the scenario's folder to ${moduleFile})`);
    if (account < 0) return;
    out.push({
      index: k,
      path: at,
      name,
      module: st.module,
      moduleFile,
      account,
      instruments,
      params: st.params,
      latency,
      fees,
      sampleNs,
      clOrdIdStart: STRATEGY_CLORDID_BASE * (k + 1),
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Validate and normalise scenario text. `file` is only used in messages. Throws UserError. */
export function parseScenario(text: string, file: string, overrides?: { seed?: number }): Scenario {
  // Editors on some systems start UTF-8 files with a byte order mark; it is not content.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const problem = scanJson(body);
  if (problem) {
    const { line, col } = lineCol(body, problem.offset);
    const kind = problem.message.startsWith('duplicate field') ? '' : 'invalid JSON: ';
    throw new UserError(`${file}:${line}:${col}: ${kind}${problem.message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    // The scanner accepts exactly JSON, so this is a bug in it; still say where the file is.
    throw new UserError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const p = new Problems(file);
    for (const issue of parsed.error.issues) for (const m of issueMessages(issue, raw)) p.add(m.path, m.what);
    p.throwIfAny();
  }
  return normalise(parsed.data!, file, raw, overrides);
}

function readError(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : (code ?? (e as Error).message);
  return new UserError(`cannot read ${file}: ${why}`);
}

/** Read, validate and normalise a scenario file. Throws UserError naming the file. */
export function loadScenario(file: string, overrides?: { seed?: number }): Scenario {
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UserError(`cannot read ${file}: is a directory`);
    if (st.size > L.fileBytesMax) throw new UserError(`cannot read ${file}: ${st.size} bytes is more than the ${L.fileBytesMax} allowed for a scenario`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw readError(file, e);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file}: not UTF-8 text`);
  }
  return parseScenario(text, file, overrides);
}
