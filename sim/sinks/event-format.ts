import { assert } from '../../engine/assert.js';
import { FLAG_POST_ONLY } from '../../engine/command.js';
import { decimalScale, parseScaled } from '../../engine/decimal.js';
import { EOD_JOB_NAME, EVENT_TYPE_NAME, EventType, JOB_OUTCOME_NAME, type EventRecord } from '../../engine/event.js';
import type { Instrument } from '../../engine/instrument.js';
import { formatDate } from '../../engine/calendar.js';
import { FRAUD_DECISION_NAME } from '../../engine/fraud.js';
import {
  BANK_OP_NAME,
  CALL_RESULT_NAME,
  CALLBACK_STATUS_NAME,
  CASH_HOLD_RESULT_NAME,
  CB_DUPLICATE,
  CB_EARLY,
  CB_STALE,
  DIRECTION_NAME,
  PAYMENT_REASON_NAME,
  PAYMENT_STATE_NAME,
  RAIL_NAME,
  REQUEST_OUTCOME_NAME,
} from '../../engine/payment.js';
import { BREAK_CLASS_NAME } from '../../engine/recon.js';
import { FILL_LIQUIDITY_NAME, MARKET_TRADE_KIND_NAME } from '../../engine/replay-venue.js';
import { CANCEL_REASON_NAME, CancelReason, NO_PRICE, ORDER_TYPE_NAME, OrderType, REJECT_NAME, SIDE_NAME, TIF_NAME } from '../../engine/types.js';

/**
 * The canonical NDJSON line: the one byte-exact, diffable form of an event that
 * golden files, the audit log's hash chain and every report agree on.
 * docs/events.md is the reference for keys and their order.
 *
 * Canonical means: keys in a fixed order per type (the line is written by hand,
 * never via JSON.stringify of an object whose key order could drift), JSON
 * numbers only for integers (seq, ts, ids, counts), prices and sizes as decimal
 * strings in the instrument's own precision, names for enums, instruments and
 * accounts. Bump EVENT_FORMAT_VERSION on any change to a line's bytes.
 *
 * The line is written as bytes straight into the caller's buffer: building it
 * as a JS string and encoding it afterwards costs more than the formatting
 * (V8 flattens the concatenation rope on every encode), and the output path
 * wants bytes anyway. The string form is a view of the same bytes, so there is
 * only one implementation of the format.
 */
export const EVENT_FORMAT_VERSION = 1;

/** Longest JSON-escaped UTF-8 instrument symbol or account name, in bytes. */
export const NAME_BYTES_MAX = 256;
/** Upper bound of one line's length: three names plus fixed keys plus at most 20 numbers of <= 24 bytes. */
export const LINE_BYTES_MAX = 2048;

const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

const QUOTE = 0x22;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const CLOSE_BRACE = 0x7d;

const NULL = enc('null');
const TRUE = enc('true');
const FALSE = enc('false');
const ZERO_SIZE = enc('"0"');

/** Keys with their leading comma, precomputed as bytes. */
const K = {
  seq: enc('{"seq":'),
  ts: enc(',"ts":'),
  account: enc(',"account":'),
  orderId: enc(',"orderId":'),
  clOrdId: enc(',"clOrdId":'),
  side: enc(',"side":'),
  orderType: enc(',"orderType":'),
  tif: enc(',"tif":'),
  price: enc(',"price":'),
  size: enc(',"size":'),
  stopPrice: enc(',"stopPrice":'),
  postOnly: enc(',"postOnly":'),
  reason: enc(',"reason":'),
  riskReason: enc(',"riskReason":'),
  tradeId: enc(',"tradeId":'),
  aggressor: enc(',"aggressor":'),
  leaves: enc(',"leaves":'),
  makerOrderId: enc(',"makerOrderId":'),
  makerAccount: enc(',"makerAccount":'),
  makerLeaves: enc(',"makerLeaves":'),
  priorityKept: enc(',"priorityKept":'),
  triggerPrice: enc(',"triggerPrice":'),
  bidPrice: enc(',"bidPrice":'),
  bidSize: enc(',"bidSize":'),
  askPrice: enc(',"askPrice":'),
  askSize: enc(',"askSize":'),
  mdSeq: enc(',"mdSeq":'),
  bidLevels: enc(',"bidLevels":'),
  askLevels: enc(',"askLevels":'),
  orders: enc(',"orders":'),
  actionIndex: enc(',"actionIndex":'),
  paymentId: enc(',"paymentId":'),
  request: enc(',"request":'),
  direction: enc(',"direction":'),
  rail: enc(',"rail":'),
  bankIndex: enc(',"bankIndex":'),
  amountMinor: enc(',"amountMinor":'),
  availableMinor: enc(',"availableMinor":'),
  outcome: enc(',"outcome":'),
  from: enc(',"from":'),
  to: enc(',"to":'),
  op: enc(',"op":'),
  attempt: enc(',"attempt":'),
  result: enc(',"result":'),
  retryAt: enc(',"retryAt":'),
  version: enc(',"version":'),
  status: enc(',"status":'),
  duplicate: enc(',"duplicate":'),
  early: enc(',"early":'),
  stale: enc(',"stale":'),
  decision: enc(',"decision":'),
  rule: enc(',"rule":'),
  score: enc(',"score":'),
  alert: enc(',"alert":'),
  breakId: enc(',"breakId":'),
  date: enc(',"date":'),
  settleDate: enc(',"settleDate":'),
  cls: enc(',"class":'),
  ledgerAmountMinor: enc(',"ledgerAmountMinor":'),
  bankAmountMinor: enc(',"bankAmountMinor":'),
  matched: enc(',"matched":'),
  breaks: enc(',"breaks":'),
  open: enc(',"open":'),
  kind: enc(',"kind":'),
  dataId: enc(',"dataId":'),
  liquidity: enc(',"liquidity":'),
  queueAtEntry: enc(',"queueAtEntry":'),
  queueNs: enc(',"queueNs":'),
  amount: enc(',"amount":'),
  balance: enc(',"balance":'),
  pnl: enc(',"pnl":'),
  equity: enc(',"equity":'),
  maintenance: enc(',"maintenance":'),
  job: enc(',"job":'),
  scope: enc(',"scope":'),
  on: enc(',"on":'),
} as const;

/** A fee's side of the trade (code 0 taker, 1 maker). */
const FEE_LIQUIDITY_BYTES = [enc('"taker"'), enc('"maker"')];
const SCOPE_BYTES = [enc('"account"'), enc('"firm"')];

/** `,"type":"name"` per event type; the instrument key follows it, so no trailing comma. */
const TYPE_BYTES: Uint8Array[] = [];
for (const [k, name] of Object.entries(EVENT_TYPE_NAME)) TYPE_BYTES[Number(k)] = enc(`,"type":${JSON.stringify(name)}`);

/** Quoted enum names as bytes, indexed by value; undefined for a value with no name. */
function enumBytes(table: Readonly<Record<number, string>> | readonly string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [k, name] of Object.entries(table)) out[Number(k)] = enc(JSON.stringify(name));
  return out;
}
const SIDE_BYTES = enumBytes(SIDE_NAME);
const ORDER_TYPE_BYTES = enumBytes(ORDER_TYPE_NAME);
const TIF_BYTES = enumBytes(TIF_NAME);
const REJECT_BYTES = enumBytes(REJECT_NAME);
const CANCEL_BYTES = enumBytes(CANCEL_REASON_NAME);
const PAY_STATE_BYTES = enumBytes(PAYMENT_STATE_NAME);
const PAY_REASON_BYTES = enumBytes(PAYMENT_REASON_NAME);
const DIRECTION_BYTES = enumBytes(DIRECTION_NAME);
const RAIL_BYTES = enumBytes(RAIL_NAME);
const OUTCOME_BYTES = enumBytes(REQUEST_OUTCOME_NAME);
const BANK_OP_BYTES = enumBytes(BANK_OP_NAME);
const CALL_RESULT_BYTES = enumBytes(CALL_RESULT_NAME);
const CALLBACK_STATUS_BYTES = enumBytes(CALLBACK_STATUS_NAME);
const FRAUD_DECISION_BYTES = enumBytes(FRAUD_DECISION_NAME);
const BREAK_CLASS_BYTES = enumBytes(BREAK_CLASS_NAME);
const CASH_HOLD_BYTES = enumBytes(CASH_HOLD_RESULT_NAME);
const LIQUIDITY_BYTES = enumBytes(FILL_LIQUIDITY_NAME);
const TRADE_KIND_BYTES = enumBytes(MARKET_TRADE_KIND_NAME);
const JOB_BYTES = enumBytes(EOD_JOB_NAME);
const JOB_OUTCOME_BYTES = enumBytes(JOB_OUTCOME_NAME);

/** Minor-unit exponent of an account's currency when the caller names none (USD, EUR: 2). */
export const MONEY_EXPONENT_DEFAULT = 2;

/** Per-instrument decimal scaling, precomputed so a line costs no regex and no BigInt. */
interface Scaler {
  /** `,"instrument":"SYM"` or `,"instrument":null`. */
  readonly key: Uint8Array;
  readonly known: boolean;
  readonly priceUnit: number;
  readonly priceScale: number;
  readonly pricePow: number;
  readonly sizeUnit: number;
  readonly sizeScale: number;
  readonly sizePow: number;
}

const UNKNOWN_INSTRUMENT: Scaler = {
  key: enc(',"instrument":null'),
  known: false,
  priceUnit: 0,
  priceScale: 0,
  pricePow: 1,
  sizeUnit: 0,
  sizeScale: 0,
  sizePow: 1,
};

function nameBytes(name: string, what: string): Uint8Array {
  const b = enc(JSON.stringify(name));
  assert(b.length <= NAME_BYTES_MAX, `${what} ${JSON.stringify(name.slice(0, 40))}... is longer than ${NAME_BYTES_MAX} bytes`);
  return b;
}

function makeScaler(i: Instrument): Scaler {
  const priceScale = decimalScale(i.tickSize);
  const sizeScale = decimalScale(i.lotSize);
  const priceUnit = parseScaled(i.tickSize, priceScale);
  const sizeUnit = parseScaled(i.lotSize, sizeScale);
  assert(priceUnit > 0, `${i.symbol}: tickSize must be positive`);
  assert(sizeUnit > 0, `${i.symbol}: lotSize must be positive`);
  const sym = nameBytes(i.symbol, 'instrument symbol');
  const key = new Uint8Array(14 + sym.length);
  key.set(enc(',"instrument":'));
  key.set(sym, 14);
  return { key, known: true, priceUnit, priceScale, pricePow: 10 ** priceScale, sizeUnit, sizeScale, sizePow: 10 ** sizeScale };
}

function badEnum(what: string, v: number): never {
  throw new RangeError(`event has unknown ${what} ${v}`);
}

/**
 * Writes canonical lines as bytes. One instance per output stream; it keeps no
 * state between lines beyond the precomputed tables.
 */
export class CanonicalLineWriter {
  private readonly scalers: Scaler[];
  private readonly accounts: Uint8Array[];
  private readonly moneyScale: number[];
  private readonly moneyPow: number[];
  /** Epoch day -> `"YYYY-MM-DD"` bytes, filled on first use (a run touches a handful of days). */
  private readonly dates = new Map<number, Uint8Array>();
  /** True when every name is ASCII, so the line can be decoded as latin1 (cheaper than UTF-8). */
  readonly ascii: boolean;
  // Always a Buffer (callers pass Buffers): one element kind keeps the byte stores monomorphic.
  private b: Uint8Array = Buffer.alloc(0);
  private p = 0;

  /** `moneyExponents[a]`: digits of account a's currency minor unit (default MONEY_EXPONENT_DEFAULT). */
  constructor(instruments: readonly Instrument[], accountNames: readonly string[], moneyExponents: readonly number[] = []) {
    instruments.forEach((ins, idx) => assert(ins.index === idx, `instrument ${ins.symbol} has index ${ins.index}, expected ${idx}`));
    this.scalers = instruments.map(makeScaler);
    this.accounts = accountNames.map((n) => nameBytes(n, 'account name'));
    this.moneyScale = accountNames.map((_, a) => moneyExponents[a] ?? MONEY_EXPONENT_DEFAULT);
    this.moneyPow = this.moneyScale.map((x) => 10 ** x);
    // eslint-disable-next-line no-control-regex
    this.ascii = [...instruments.map((i) => i.symbol), ...accountNames].every((s) => /^[\x00-\x7f]*$/.test(s));
  }

  /** Writes the line for `e` (no newline) at out[pos...]; returns the end. out needs LINE_BYTES_MAX free bytes. */
  write(e: EventRecord, out: Uint8Array, pos: number): number {
    this.b = out;
    this.p = pos;
    this.bytes(K.seq);
    this.int(e.seq);
    this.bytes(K.ts);
    this.int(e.tsNs);
    const tb = TYPE_BYTES[e.type];
    if (tb === undefined) badEnum('type', e.type);
    this.bytes(tb);
    switch (e.type) {
      case EventType.OrderAccepted: {
        const s = this.ins(e.instrument);
        const ot = e.orderType;
        // A market order's price slot and a non-stop order's trigger slot mean nothing: null, not a misleading "0".
        const hasLimit = ot === OrderType.Limit || ot === OrderType.StopLimit;
        const hasStop = ot === OrderType.StopMarket || ot === OrderType.StopLimit;
        this.common(e);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.key(K.orderType, this.enumOf(ORDER_TYPE_BYTES, ot, 'order type'));
        this.key(K.tif, this.enumOf(TIF_BYTES, e.tif, 'time in force'));
        this.bytes(K.price);
        if (hasLimit) this.price(s, e.priceTicks);
        else this.bytes(NULL);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.bytes(K.stopPrice);
        if (hasStop) this.price(s, e.stopPriceTicks);
        else this.bytes(NULL);
        this.key(K.postOnly, (e.flags & FLAG_POST_ONLY) !== 0 ? TRUE : FALSE);
        break;
      }
      case EventType.OrderRejected: {
        // A reject may carry the very values that made it invalid: unknown enums print as null.
        const s = this.ins(e.instrument);
        const ot = e.orderType;
        const hasLimit = ot === OrderType.Limit || ot === OrderType.StopLimit;
        const hasStop = ot === OrderType.StopMarket || ot === OrderType.StopLimit;
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.clOrdId, e.clOrdId);
        this.key(K.side, SIDE_BYTES[e.side] ?? NULL);
        this.key(K.orderType, ORDER_TYPE_BYTES[ot] ?? NULL);
        this.key(K.tif, TIF_BYTES[e.tif] ?? NULL);
        this.bytes(K.price);
        if (hasLimit) this.price(s, e.priceTicks);
        else this.bytes(NULL);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.bytes(K.stopPrice);
        if (hasStop) this.price(s, e.stopPriceTicks);
        else this.bytes(NULL);
        this.key(K.reason, this.enumOf(REJECT_BYTES, e.reason, 'reject reason'));
        break;
      }
      case EventType.Trade: {
        const s = this.ins(e.instrument);
        this.keyInt(K.tradeId, e.tradeId);
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.key(K.aggressor, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.keyInt(K.orderId, e.orderId);
        this.key(K.account, this.acct(e.account));
        this.bytes(K.leaves);
        this.size(s, e.leavesLots);
        this.keyInt(K.makerOrderId, e.makerOrderId);
        this.key(K.makerAccount, this.acct(e.makerAccount));
        this.bytes(K.makerLeaves);
        this.size(s, e.makerLeavesLots);
        break;
      }
      case EventType.OrderCancelled: {
        const s = this.ins(e.instrument);
        this.common(e);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.bytes(K.leaves);
        this.size(s, e.leavesLots);
        this.key(K.reason, this.enumOf(CANCEL_BYTES, e.reason, 'cancel reason'));
        // A triggered stop that risk refused: which check refused it.
        if (e.reason === CancelReason.Risk) this.key(K.riskReason, this.enumOf(REJECT_BYTES, e.flags, 'reject reason'));
        break;
      }
      case EventType.OrderExpired: {
        const s = this.ins(e.instrument);
        this.common(e);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        break;
      }
      case EventType.OrderModified: {
        const s = this.ins(e.instrument);
        this.common(e);
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.leaves);
        this.size(s, e.sizeLots);
        this.key(K.priorityKept, (e.flags & 1) !== 0 ? TRUE : FALSE);
        break;
      }
      case EventType.ModifyRejected:
      case EventType.CancelRejected:
        this.ins(e.instrument);
        this.common(e);
        this.key(K.reason, this.enumOf(REJECT_BYTES, e.reason, 'reject reason'));
        break;
      case EventType.StopTriggered: {
        const s = this.ins(e.instrument);
        this.common(e);
        this.bytes(K.stopPrice);
        this.price(s, e.stopPriceTicks);
        this.bytes(K.triggerPrice);
        this.price(s, e.priceTicks);
        break;
      }
      case EventType.OrderRested: {
        const s = this.ins(e.instrument);
        this.common(e);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.leaves);
        this.size(s, e.leavesLots);
        break;
      }
      case EventType.Quote: {
        const s = this.ins(e.instrument);
        // An empty side: null price and "0" size, so no consumer mistakes the sentinel for a price.
        this.bytes(K.bidPrice);
        if (e.bidPriceTicks === NO_PRICE) {
          this.bytes(NULL);
          this.key(K.bidSize, ZERO_SIZE);
        } else {
          this.price(s, e.bidPriceTicks);
          this.bytes(K.bidSize);
          this.size(s, e.bidSizeLots);
        }
        this.bytes(K.askPrice);
        if (e.askPriceTicks === NO_PRICE) {
          this.bytes(NULL);
          this.key(K.askSize, ZERO_SIZE);
        } else {
          this.price(s, e.askPriceTicks);
          this.bytes(K.askSize);
          this.size(s, e.askSizeLots);
        }
        break;
      }
      case EventType.BookSnapshot:
        this.ins(e.instrument);
        this.keyInt(K.mdSeq, e.mdSeq);
        this.keyInt(K.bidLevels, e.orderCount);
        this.keyInt(K.askLevels, e.code);
        break;
      case EventType.Level:
      case EventType.SnapshotLevel: {
        const s = this.ins(e.instrument);
        this.keyInt(K.mdSeq, e.mdSeq);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.keyInt(K.orders, e.orderCount);
        break;
      }
      case EventType.SessionOpen:
      case EventType.SessionClose:
        this.ins(e.instrument);
        break;
      case EventType.Action:
        this.keyInt(K.actionIndex, e.actionIndex);
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.clOrdId, e.clOrdId);
        break;
      // Payments: money in integer minor units (the currency's exponent is in docs/payments.md's
      // scenario section, not in the line), banks by their index in payments.banks.
      case EventType.PaymentRequested:
        this.keyInt(K.paymentId, e.ref);
        this.keyInt(K.request, e.actionIndex);
        this.key(K.account, this.acct(e.account));
        this.key(K.direction, this.enumOf(DIRECTION_BYTES, e.side, 'direction'));
        this.key(K.rail, this.enumOf(RAIL_BYTES, e.orderType, 'rail'));
        this.keyInt(K.bankIndex, e.tif);
        this.keyInt(K.amountMinor, e.amountMinor);
        this.key(K.outcome, this.enumOf(OUTCOME_BYTES, e.code, 'request outcome'));
        break;
      case EventType.PaymentState:
        this.keyInt(K.paymentId, e.ref);
        this.key(K.account, this.acct(e.account));
        this.key(K.from, this.enumOf(PAY_STATE_BYTES, e.flags, 'payment state'));
        this.key(K.to, this.enumOf(PAY_STATE_BYTES, e.code, 'payment state'));
        this.key(K.reason, this.enumOf(PAY_REASON_BYTES, e.reason, 'payment reason'));
        this.keyInt(K.amountMinor, e.amountMinor);
        this.keyInt(K.availableMinor, e.amount2Minor);
        break;
      case EventType.BankCall:
        this.keyInt(K.paymentId, e.ref);
        this.keyInt(K.bankIndex, e.tif);
        this.key(K.op, this.enumOf(BANK_OP_BYTES, e.code, 'bank op'));
        this.keyInt(K.attempt, e.mdSeq);
        break;
      case EventType.BankResponse:
        this.keyInt(K.paymentId, e.ref);
        this.keyInt(K.bankIndex, e.tif);
        this.keyInt(K.attempt, e.mdSeq);
        this.key(K.result, this.enumOf(CALL_RESULT_BYTES, e.code, 'bank call result'));
        this.bytes(K.retryAt);
        if (e.orderId > 0) this.int(e.orderId);
        else this.bytes(NULL);
        break;
      case EventType.BankCallback:
        this.keyInt(K.paymentId, e.ref);
        this.keyInt(K.bankIndex, e.tif);
        this.keyInt(K.version, e.mdSeq);
        this.key(K.status, this.enumOf(CALLBACK_STATUS_BYTES, e.code, 'callback status'));
        this.key(K.reason, this.enumOf(PAY_REASON_BYTES, e.reason, 'payment reason'));
        this.keyInt(K.amountMinor, e.amountMinor);
        this.key(K.duplicate, (e.flags & CB_DUPLICATE) !== 0 ? TRUE : FALSE);
        this.key(K.early, (e.flags & CB_EARLY) !== 0 ? TRUE : FALSE);
        this.key(K.stale, (e.flags & CB_STALE) !== 0 ? TRUE : FALSE);
        break;
      case EventType.FraudDecision:
        this.keyInt(K.paymentId, e.ref);
        this.key(K.account, this.acct(e.account));
        this.key(K.decision, this.enumOf(FRAUD_DECISION_BYTES, e.code, 'fraud decision'));
        this.key(K.rule, this.enumOf(PAY_REASON_BYTES, e.reason, 'fraud rule'));
        this.keyInt(K.score, e.priceTicks);
        this.key(K.alert, (e.flags & 1) !== 0 ? TRUE : FALSE);
        break;
      case EventType.ReconBreak:
      case EventType.ReconResolved:
        this.keyInt(K.breakId, e.ref);
        this.date(e.mdSeq);
        this.keyInt(K.bankIndex, e.tif);
        this.key(K.cls, this.enumOf(BREAK_CLASS_BYTES, e.code, 'break class'));
        this.bytes(K.paymentId);
        if (e.orderId > 0) this.int(e.orderId);
        else this.bytes(NULL);
        if (e.type === EventType.ReconBreak) {
          this.bytes(K.ledgerAmountMinor);
          if ((e.flags & 1) !== 0) this.int(e.amountMinor);
          else this.bytes(NULL);
          this.bytes(K.bankAmountMinor);
          if ((e.flags & 2) !== 0) this.int(e.amount2Minor);
          else this.bytes(NULL);
        }
        break;
      case EventType.ReconRun:
        this.date(e.mdSeq);
        this.keyInt(K.bankIndex, e.tif);
        this.keyInt(K.matched, e.orderCount);
        this.keyInt(K.breaks, e.sizeLots);
        this.keyInt(K.open, e.leavesLots);
        break;
      case EventType.CashHold:
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.request, e.actionIndex);
        this.keyInt(K.amountMinor, e.amountMinor);
        this.keyInt(K.availableMinor, e.amount2Minor);
        this.key(K.result, this.enumOf(CASH_HOLD_BYTES, e.code, 'cash-hold result'));
        break;
      case EventType.MarketTrade: {
        const s = this.ins(e.instrument);
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        // The data may not say who was the aggressor (Tardis side "unknown").
        this.key(K.aggressor, SIDE_BYTES[e.side] ?? NULL);
        this.key(K.kind, this.enumOf(TRADE_KIND_BYTES, e.code, 'market trade kind'));
        this.keyInt(K.dataId, e.ref);
        break;
      }
      case EventType.Fill: {
        const s = this.ins(e.instrument);
        this.keyInt(K.tradeId, e.tradeId);
        this.common(e);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.bytes(K.leaves);
        this.size(s, e.leavesLots);
        this.key(K.liquidity, this.enumOf(LIQUIDITY_BYTES, e.code, 'fill liquidity'));
        this.bytes(K.queueAtEntry);
        this.size(s, e.makerLeavesLots);
        this.keyInt(K.queueNs, e.ref);
        break;
      }
      case EventType.Deposit:
        this.key(K.account, this.acct(e.account));
        this.money(K.amount, e.account, e.amountMinor);
        this.money(K.balance, e.account, e.amount2Minor);
        break;
      case EventType.Fee:
        this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.tradeId, e.tradeId);
        this.key(K.liquidity, this.enumOf(FEE_LIQUIDITY_BYTES, e.code, 'fee liquidity'));
        this.money(K.amount, e.account, e.amountMinor);
        break;
      case EventType.CashSettled:
        this.key(K.account, this.acct(e.account));
        this.date(e.ref);
        this.money(K.amount, e.account, e.amountMinor);
        break;
      case EventType.SecuritiesSettled: {
        const s = this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.date(e.ref);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        break;
      }
      case EventType.Mark: {
        const s = this.ins(e.instrument);
        this.date(e.ref);
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        break;
      }
      case EventType.Pnl:
        this.key(K.account, this.acct(e.account));
        this.date(e.ref);
        this.money(K.pnl, e.account, e.amountMinor);
        this.money(K.equity, e.account, e.amount2Minor);
        break;
      case EventType.VariationMargin:
        this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.date(e.ref);
        this.money(K.amount, e.account, e.amountMinor);
        break;
      case EventType.MarginCall:
        this.key(K.account, this.acct(e.account));
        this.date(e.ref);
        this.money(K.amount, e.account, e.amountMinor);
        this.money(K.equity, e.account, e.amount2Minor);
        break;
      case EventType.LiquidationStart:
        this.key(K.account, this.acct(e.account));
        this.money(K.equity, e.account, e.amountMinor);
        this.money(K.maintenance, e.account, e.amount2Minor);
        break;
      case EventType.LiquidationOrder: {
        const s = this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.clOrdId, e.clOrdId);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        break;
      }
      case EventType.Job:
        this.key(K.job, this.enumOf(JOB_BYTES, e.code, 'job'));
        this.date(e.ref);
        this.keyInt(K.attempt, e.flags);
        this.key(K.status, this.enumOf(JOB_OUTCOME_BYTES, e.reason, 'job outcome'));
        break;
      case EventType.KillSwitch:
        this.key(K.account, this.acct(e.account));
        this.key(K.scope, this.enumOf(SCOPE_BYTES, e.code, 'kill-switch scope'));
        this.key(K.on, (e.flags & 1) !== 0 ? TRUE : FALSE);
        break;
      case EventType.Cleared: {
        const s = this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.tradeId, e.tradeId);
        this.keyInt(K.orderId, e.orderId);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.price);
        this.price(s, e.priceTicks);
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.money(K.amount, e.account, e.amountMinor);
        this.date(e.ref, K.settleDate);
        break;
      }
      case EventType.TradeSettled: {
        const s = this.ins(e.instrument);
        this.key(K.account, this.acct(e.account));
        this.keyInt(K.tradeId, e.tradeId);
        this.keyInt(K.orderId, e.orderId);
        this.key(K.side, this.enumOf(SIDE_BYTES, e.side, 'side'));
        this.bytes(K.size);
        this.size(s, e.sizeLots);
        this.money(K.amount, e.account, e.amountMinor);
        this.date(e.ref);
        break;
      }
      default: {
        const never: never = e.type;
        badEnum('type', never);
      }
    }
    this.b[this.p++] = CLOSE_BRACE;
    return this.p;
  }

  /** account, orderId, clOrdId: the run shared by most order events. */
  private common(e: EventRecord): void {
    this.key(K.account, this.acct(e.account));
    this.keyInt(K.orderId, e.orderId);
    this.keyInt(K.clOrdId, e.clOrdId);
  }

  /** `,"<key>":"<minor units as a decimal of the account's currency>"`. */
  private money(k: Uint8Array, account: number, minor: number): void {
    this.bytes(k);
    const known = account >= 0 && account < this.moneyScale.length;
    this.scaled(known, minor, 1, known ? this.moneyScale[account]! : 0, known ? this.moneyPow[account]! : 1);
  }

  /** `,"date":"YYYY-MM-DD"` (or another key) of an epoch day. */
  private date(day: number, key: Uint8Array = K.date): void {
    let b = this.dates.get(day);
    if (b === undefined) {
      b = enc(JSON.stringify(formatDate(day)));
      this.dates.set(day, b);
    }
    this.key(key, b);
  }

  /** Writes the instrument key and returns its scaler. */
  private ins(i: number): Scaler {
    const s = i >= 0 && i < this.scalers.length ? this.scalers[i]! : UNKNOWN_INSTRUMENT;
    this.bytes(s.key);
    return s;
  }

  private acct(a: number): Uint8Array {
    return a >= 0 && a < this.accounts.length ? this.accounts[a]! : NULL;
  }

  private enumOf(table: Uint8Array[], v: number, what: string): Uint8Array {
    const b = table[v];
    if (b === undefined) badEnum(what, v);
    return b;
  }

  private key(k: Uint8Array, v: Uint8Array): void {
    this.bytes(k);
    this.bytes(v);
  }

  private keyInt(k: Uint8Array, v: number): void {
    this.bytes(k);
    this.int(v);
  }

  private bytes(a: Uint8Array): void {
    const b = this.b;
    let p = this.p;
    // A plain loop beats TypedArray.set for the 4-20 byte pieces a line is made of.
    for (let i = 0; i < a.length; i++) b[p++] = a[i]!;
    this.p = p;
  }

  private int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new RangeError(`event field ${n} is not a safe integer`);
    if (n < 0) {
      this.b[this.p++] = MINUS;
      n = -n;
    }
    this.digits(n, 1);
  }

  /** Writes n (>= 0, a safe integer) with at least minDigits digits, zero-padded on the left. */
  private digits(n: number, minDigits: number): void {
    if (n < 1e8) {
      this.digits8(n, minDigits);
      return;
    }
    // Two int32 halves (a safe integer is below 1e16): a float division per digit
    // was most of the cost of a 14-digit nanosecond timestamp.
    const hi = Math.floor(n / 1e8);
    this.digits8(hi, minDigits > 8 ? minDigits - 8 : 1);
    this.digits8(n - hi * 1e8, 8);
  }

  /** digits() for n < 1e8: integer arithmetic only. */
  private digits8(n: number, minDigits: number): void {
    let v = n | 0;
    let len = v < 1e4 ? (v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : 4) : v < 1e6 ? (v < 1e5 ? 5 : 6) : v < 1e7 ? 7 : 8;
    if (len < minDigits) len = minDigits;
    const b = this.b;
    let p = this.p + len;
    this.p = p;
    while (len-- > 0) {
      const q = (v / 10) | 0;
      b[--p] = ZERO + v - q * 10;
      v = q;
    }
  }

  /** `"<units*unit as a decimal with scale places>"`, or null for an unknown instrument. */
  private scaled(known: boolean, units: number, unit: number, scale: number, pow: number): void {
    if (!known) {
      this.bytes(NULL);
      return;
    }
    const v = units * unit;
    if (!Number.isSafeInteger(v)) throw new RangeError(`scaled value ${units} x ${unit} is not a safe integer`);
    const b = this.b;
    b[this.p++] = QUOTE;
    let a = v;
    if (v < 0) {
      b[this.p++] = MINUS;
      a = -v;
    }
    if (scale === 0) {
      this.digits(a, 1);
    } else {
      let ip = Math.floor(a / pow);
      let fp = a - ip * pow;
      // a / pow is a rounded float division; near 2^53 it can land one above the true quotient.
      if (fp < 0) {
        ip -= 1;
        fp += pow;
      }
      this.digits(ip, 1);
      b[this.p++] = DOT;
      this.digits(fp, scale);
    }
    b[this.p++] = QUOTE;
  }

  private price(s: Scaler, ticks: number): void {
    this.scaled(s.known, ticks, s.priceUnit, s.priceScale, s.pricePow);
  }

  private size(s: Scaler, lots: number): void {
    this.scaled(s.known, lots, s.sizeUnit, s.sizeScale, s.sizePow);
  }
}

export type EventFormatter = (e: EventRecord) => string;

/** The canonical line of an event as a string (no trailing newline). */
export function createEventFormatter(instruments: readonly Instrument[], accountNames: readonly string[], moneyExponents: readonly number[] = []): EventFormatter {
  const w = new CanonicalLineWriter(instruments, accountNames, moneyExponents);
  const scratch = Buffer.allocUnsafe(LINE_BYTES_MAX);
  const encoding = w.ascii ? 'latin1' : 'utf8';
  return (e) => scratch.toString(encoding, 0, w.write(e, scratch, 0));
}

/**
 * Which event types carry which index columns: the audit log derives its
 * account / order columns from the record with these, the verifier from the line.
 */
export const EVENT_HAS_ACCOUNT: ReadonlySet<EventType> = new Set([
  EventType.OrderAccepted,
  EventType.OrderRejected,
  EventType.Trade,
  EventType.OrderCancelled,
  EventType.OrderExpired,
  EventType.OrderModified,
  EventType.ModifyRejected,
  EventType.CancelRejected,
  EventType.StopTriggered,
  EventType.OrderRested,
  EventType.Action,
  EventType.PaymentRequested,
  EventType.PaymentState,
  EventType.FraudDecision,
  EventType.CashHold,
  EventType.Fill,
  EventType.Deposit,
  EventType.Fee,
  EventType.CashSettled,
  EventType.SecuritiesSettled,
  EventType.Pnl,
  EventType.VariationMargin,
  EventType.MarginCall,
  EventType.LiquidationStart,
  EventType.LiquidationOrder,
  EventType.KillSwitch,
  EventType.Cleared,
  EventType.TradeSettled,
]);
export const EVENT_HAS_ORDER_ID: ReadonlySet<EventType> = new Set([
  EventType.OrderAccepted,
  EventType.Trade,
  EventType.OrderCancelled,
  EventType.OrderExpired,
  EventType.OrderModified,
  EventType.ModifyRejected,
  EventType.CancelRejected,
  EventType.StopTriggered,
  EventType.OrderRested,
  EventType.Fill,
  EventType.Cleared,
  EventType.TradeSettled,
]);
