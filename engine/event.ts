/**
 * Every state change of the venue is an event with a sequence number and a
 * virtual timestamp. Inside the core an event is one reused mutable record
 * (no allocation per event); it crosses threads as EVENT_SLOTS float64 slots
 * and leaves the process as one canonical NDJSON line (sim/sinks/).
 *
 * Which fields are meaningful depends on `type`; unused fields are 0.
 */
export enum EventType {
  SessionOpen = 1,
  SessionClose = 2,
  OrderAccepted = 3,
  OrderRejected = 4,
  Trade = 5,
  OrderCancelled = 6,
  OrderExpired = 7,
  OrderModified = 8,
  StopTriggered = 9,
  /** L1: best bid/offer changed. */
  Quote = 10,
  /** L2 incremental: one price level's aggregate changed. */
  Level = 11,
  /** A scheduled scenario action was applied (the command it carried follows as its own events). */
  Action = 12,
  /** Order came to rest in the book (after any immediate matching). */
  OrderRested = 13,
  /** Modify refused: the order is unchanged. */
  ModifyRejected = 14,
  /** Cancel refused. */
  CancelRejected = 15,
  /** L2 snapshot header: the instrument's top-N view at mdSeq follows as snapshot-level events. */
  BookSnapshot = 16,
  /** One level of an L2 snapshot. */
  SnapshotLevel = 17,
  // 40-59: payments and reconciliation (engine/payment.ts; field use listed on EventRecord).
  /** A deposit or withdrawal request arrived (new, an idempotent replay, or a key conflict). */
  PaymentRequested = 40,
  /** A payment moved from one state to another; the transition's ledger posting is in amountMinor. */
  PaymentState = 41,
  /** A call to a bank partner was sent. */
  BankCall = 42,
  /** A bank partner answered a call (or did not: timeout). */
  BankResponse = 43,
  /** A bank's status callback arrived (possibly a duplicate or out of order). */
  BankCallback = 44,
  /** Fraud and compliance rules decided on a payment request. */
  FraudDecision = 45,
  /** Daily reconciliation found a break. */
  ReconBreak = 46,
  /** A reconciliation break was resolved (a timing difference whose item arrived). */
  ReconResolved = 47,
  /** One bank's daily reconciliation finished. */
  ReconRun = 48,
  /** Cash committed from available to held (stands in for spending on trades until trading is wired to cash). */
  CashHold = 49,
  // 80-89: replay of recorded market data (issue 3).
  /** A trade printed by the recorded market (not an own order). */
  MarketTrade = 80,
  /** An own order traded against the recorded market (engine/replay-venue.ts). */
  Fill = 81,
  // 20-39: accounts, risk, margin, settlement (issue 4). 40-59: payments and
  // reconciliation (issue 5). 60-79: strategies and backtests (issue 6).
  // Ranges are reserved so parallel work never collides on a number.
  /** Cash paid into an account (initial funding). */
  Deposit = 20,
  /** The fee (or rebate, negative) of one side of one trade. */
  Fee = 21,
  /** T+N: an account's net cash of the trades due that day moved from unsettled to available. */
  CashSettled = 22,
  /** T+N: the securities of an account's trades due that day, delivered (-) or received (+). */
  SecuritiesSettled = 23,
  /** End of day: the price an instrument is marked at. */
  Mark = 24,
  /** End of day: an account's P&L for the day and its equity at the marks. */
  Pnl = 25,
  /** End of day: a future's daily P&L paid to (+) or collected from (-) an account. */
  VariationMargin = 26,
  /** End of day: equity below maintenance; the call brings it back to the initial requirement. */
  MarginCall = 27,
  /** Intraday: equity fell below maintenance; the venue starts to liquidate. */
  LiquidationStart = 28,
  /** One liquidation order, submitted through the book right after this event. */
  LiquidationOrder = 29,
  /** One attempt (or skip) of an end-of-day job. */
  Job = 30,
  /** An account's kill switch was turned on or off (per account, also when its firm's switch moved). */
  KillSwitch = 31,
  /** Clearing of one side of one trade (or own fill): the obligation, its cash and its settlement day. */
  Cleared = 32,
  /** T+N: one side of one trade settled (lots delivered, cash paid or received). */
  TradeSettled = 33,
}

/** End-of-day jobs by `code` of a Job event, in dependency order. */
export const EOD_JOB_NAME = ['mark-to-market', 'margin-calls', 'settlement', 'statements'] as const;

/** `reason` of a Job event. */
export enum JobOutcome {
  Succeeded = 1,
  /** Failed; a retry is scheduled. */
  Retrying = 2,
  /** Failed for the last time. */
  Failed = 3,
  /** Not run: a dependency did not succeed. */
  Skipped = 4,
}
export const JOB_OUTCOME_NAME: Record<JobOutcome, string> = {
  [JobOutcome.Succeeded]: 'succeeded',
  [JobOutcome.Retrying]: 'retrying',
  [JobOutcome.Failed]: 'failed',
  [JobOutcome.Skipped]: 'skipped',
};

export const EVENT_TYPE_NAME: Record<EventType, string> = {
  [EventType.SessionOpen]: 'session-open',
  [EventType.SessionClose]: 'session-close',
  [EventType.OrderAccepted]: 'accepted',
  [EventType.OrderRejected]: 'rejected',
  [EventType.Trade]: 'trade',
  [EventType.OrderCancelled]: 'cancelled',
  [EventType.OrderExpired]: 'expired',
  [EventType.OrderModified]: 'modified',
  [EventType.StopTriggered]: 'stop-triggered',
  [EventType.Quote]: 'quote',
  [EventType.Level]: 'level',
  [EventType.Action]: 'action',
  [EventType.OrderRested]: 'rested',
  [EventType.ModifyRejected]: 'modify-rejected',
  [EventType.CancelRejected]: 'cancel-rejected',
  [EventType.BookSnapshot]: 'book-snapshot',
  [EventType.SnapshotLevel]: 'snapshot-level',
  [EventType.PaymentRequested]: 'payment-requested',
  [EventType.PaymentState]: 'payment-state',
  [EventType.BankCall]: 'bank-call',
  [EventType.BankResponse]: 'bank-response',
  [EventType.BankCallback]: 'bank-callback',
  [EventType.FraudDecision]: 'fraud-decision',
  [EventType.ReconBreak]: 'recon-break',
  [EventType.ReconResolved]: 'recon-resolved',
  [EventType.ReconRun]: 'recon-run',
  [EventType.CashHold]: 'cash-hold',
  [EventType.MarketTrade]: 'market-trade',
  [EventType.Fill]: 'fill',
  [EventType.Deposit]: 'deposit',
  [EventType.Fee]: 'fee',
  [EventType.CashSettled]: 'cash-settled',
  [EventType.SecuritiesSettled]: 'securities-settled',
  [EventType.Mark]: 'mark',
  [EventType.Pnl]: 'pnl',
  [EventType.VariationMargin]: 'variation-margin',
  [EventType.MarginCall]: 'margin-call',
  [EventType.LiquidationStart]: 'liquidation-start',
  [EventType.LiquidationOrder]: 'liquidation-order',
  [EventType.Job]: 'job',
  [EventType.KillSwitch]: 'kill-switch',
  [EventType.Cleared]: 'cleared',
  [EventType.TradeSettled]: 'trade-settled',
};

/**
 * One event. Field meanings by type:
 * - accepted: instrument, account, orderId, clOrdId, side, orderType, tif, priceTicks, sizeLots, stopPriceTicks, flags
 * - rejected: instrument, account, clOrdId, side, priceTicks, sizeLots, reason (RejectReason)
 * - trade: instrument, tradeId, priceTicks, sizeLots, side (aggressor side),
 *          orderId/account/leavesLots = taker, makerOrderId/makerAccount/makerLeavesLots = maker
 * - cancelled: instrument, account, orderId, clOrdId, sizeLots (cancelled quantity), leavesLots (0 unless partial), reason (CancelReason)
 * - expired: instrument, account, orderId, clOrdId, sizeLots (expired quantity)
 * - modified: instrument, account, orderId, clOrdId, priceTicks, sizeLots (new leaves), flags bit0 = priority kept
 * - modify-rejected / cancel-rejected: instrument, account, orderId (0 if unknown), clOrdId, reason (RejectReason)
 * - stop-triggered: instrument, account, orderId, clOrdId, stopPriceTicks, priceTicks (trade price that triggered)
 * - rested: instrument, account, orderId, clOrdId, side, priceTicks, leavesLots
 * - quote: instrument, bidPriceTicks, bidSizeLots, askPriceTicks, askSizeLots (NO_PRICE / 0 for an empty side)
 * - level: instrument, mdSeq, side, priceTicks, sizeLots, orderCount
 * - book-snapshot: instrument, mdSeq (the view is as of this sequence), orderCount (bid levels), code (ask levels)
 * - snapshot-level: instrument, mdSeq, side, priceTicks, sizeLots, orderCount (bids best first, then asks best first)
 * - session-open / session-close: instrument (-1 = all)
 * - action: actionIndex (the scenario's actions[i]), account, clOrdId
 *
 * Payments (40-49) keep instrument = -1 and use the generic fields as follows
 * (set and read only through engine/payment-event.ts, so the mapping lives in one place):
 * ref = payment id (break id for recon-break/-resolved), tif = bank index, account,
 * amountMinor / amount2Minor = money, code = the type's main enum, reason = PaymentReason,
 * side = direction, orderType = rail, flags = bit flags, mdSeq = attempt / callback version /
 * epoch day, actionIndex = scenario request index, orderId = payment id on recon events or
 * next attempt time on bank-response, priceTicks = fraud score, orderCount / sizeLots / leavesLots = recon counts.
 *
 * Replay (80-81):
 * - market-trade: instrument, priceTicks, sizeLots, side (aggressor; 2 = unknown), code (MarketTradeKind), ref (the data's order/trade id)
 * - fill: instrument, tradeId, account, orderId, clOrdId, side, priceTicks, sizeLots, leavesLots,
 *         code (FillLiquidity), makerLeavesLots = displayed size ahead of the order when it entered its queue, ref = ns in queue
 * Accounts (engine/back-office.ts); money in minor units of the account's currency, `ref` = epoch day where a date is meant:
 * - deposit: account, amountMinor, amount2Minor (available cash after)
 * - fee: instrument, account, tradeId, code (0 taker, 1 maker), amountMinor (negative = rebate)
 * - cash-settled: account, ref (day), amountMinor (+ received, - paid)
 * - securities-settled: instrument, account, ref (day), sizeLots (+ received, - delivered)
 * - mark: instrument, ref (day), priceTicks
 * - pnl: account, ref (day), amountMinor (the day's P&L), amount2Minor (equity)
 * - variation-margin: instrument, account, ref (day), amountMinor
 * - margin-call: account, ref (day), amountMinor (call), amount2Minor (equity)
 * - liquidation-start: account, amountMinor (equity), amount2Minor (maintenance requirement)
 * - liquidation-order: instrument, account, clOrdId, side, sizeLots
 * - job: code (EOD_JOB_NAME index), ref (day), flags (attempt, 0 for a skip), reason (JobOutcome)
 * - kill-switch: account, code (0 account, 1 firm), flags bit0 = on
 * - cleared: instrument, account, tradeId, orderId, side (this account's side), priceTicks, sizeLots,
 *            amountMinor (cash due on settlement, fee included: + receive, - pay), ref (settlement day)
 * - trade-settled: instrument, account, tradeId, orderId, side, sizeLots (lots delivered: 0 for
 *            futures), amountMinor (as in cleared), ref (day)
 */
export class EventRecord {
  type: EventType = EventType.SessionOpen;
  seq = 0;
  tsNs = 0;
  instrument = 0;
  account = 0;
  orderId = 0;
  clOrdId = 0;
  side = 0;
  orderType = 0;
  tif = 0;
  priceTicks = 0;
  sizeLots = 0;
  leavesLots = 0;
  stopPriceTicks = 0;
  reason = 0;
  flags = 0;
  tradeId = 0;
  makerOrderId = 0;
  makerAccount = 0;
  makerLeavesLots = 0;
  bidPriceTicks = 0;
  bidSizeLots = 0;
  askPriceTicks = 0;
  askSizeLots = 0;
  mdSeq = 0;
  orderCount = 0;
  actionIndex = 0;
  /** Money in minor units (fees, cash movements, margin), meaning by type. */
  amountMinor = 0;
  /** A second amount in minor units (e.g. balance after, requirement). */
  amount2Minor = 0;
  /** A reference number by type (payment id, transfer id, job id, business day). */
  ref = 0;
  /** A small enum by type (payment state, job status, return code). */
  code = 0;

  clear(): void {
    this.type = EventType.SessionOpen;
    this.seq = this.tsNs = this.instrument = this.account = this.orderId = this.clOrdId = 0;
    this.side = this.orderType = this.tif = this.priceTicks = this.sizeLots = this.leavesLots = 0;
    this.stopPriceTicks = this.reason = this.flags = this.tradeId = 0;
    this.makerOrderId = this.makerAccount = this.makerLeavesLots = 0;
    this.bidPriceTicks = this.bidSizeLots = this.askPriceTicks = this.askSizeLots = 0;
    this.mdSeq = this.orderCount = this.actionIndex = 0;
    this.amountMinor = this.amount2Minor = this.ref = this.code = 0;
  }
}

/** Slots per event when an event crosses a thread as float64s. Every field is a safe integer. */
export const EVENT_SLOTS = 31;

export function encodeEvent(e: EventRecord, out: Float64Array, at: number): void {
  out[at] = e.type;
  out[at + 1] = e.seq;
  out[at + 2] = e.tsNs;
  out[at + 3] = e.instrument;
  out[at + 4] = e.account;
  out[at + 5] = e.orderId;
  out[at + 6] = e.clOrdId;
  out[at + 7] = e.side;
  out[at + 8] = e.orderType;
  out[at + 9] = e.tif;
  out[at + 10] = e.priceTicks;
  out[at + 11] = e.sizeLots;
  out[at + 12] = e.leavesLots;
  out[at + 13] = e.stopPriceTicks;
  out[at + 14] = e.reason;
  out[at + 15] = e.flags;
  out[at + 16] = e.tradeId;
  out[at + 17] = e.makerOrderId;
  out[at + 18] = e.makerAccount;
  out[at + 19] = e.makerLeavesLots;
  out[at + 20] = e.bidPriceTicks;
  out[at + 21] = e.bidSizeLots;
  out[at + 22] = e.askPriceTicks;
  out[at + 23] = e.askSizeLots;
  out[at + 24] = e.mdSeq;
  out[at + 25] = e.orderCount;
  out[at + 26] = e.actionIndex;
  out[at + 27] = e.amountMinor;
  out[at + 28] = e.amount2Minor;
  out[at + 29] = e.ref;
  out[at + 30] = e.code;
}

export function decodeEvent(src: Float64Array, at: number, e: EventRecord): void {
  e.type = src[at] as EventType;
  e.seq = src[at + 1]!;
  e.tsNs = src[at + 2]!;
  e.instrument = src[at + 3]!;
  e.account = src[at + 4]!;
  e.orderId = src[at + 5]!;
  e.clOrdId = src[at + 6]!;
  e.side = src[at + 7]!;
  e.orderType = src[at + 8]!;
  e.tif = src[at + 9]!;
  e.priceTicks = src[at + 10]!;
  e.sizeLots = src[at + 11]!;
  e.leavesLots = src[at + 12]!;
  e.stopPriceTicks = src[at + 13]!;
  e.reason = src[at + 14]!;
  e.flags = src[at + 15]!;
  e.tradeId = src[at + 16]!;
  e.makerOrderId = src[at + 17]!;
  e.makerAccount = src[at + 18]!;
  e.makerLeavesLots = src[at + 19]!;
  e.bidPriceTicks = src[at + 20]!;
  e.bidSizeLots = src[at + 21]!;
  e.askPriceTicks = src[at + 22]!;
  e.askSizeLots = src[at + 23]!;
  e.mdSeq = src[at + 24]!;
  e.orderCount = src[at + 25]!;
  e.actionIndex = src[at + 26]!;
  e.amountMinor = src[at + 27]!;
  e.amount2Minor = src[at + 28]!;
  e.ref = src[at + 29]!;
  e.code = src[at + 30]!;
}

/** Receives events in sequence order. Implementations must copy what they keep: the record is reused. */
export interface EventSink {
  emit(e: EventRecord): void;
}
