import { COMMAND_SLOTS, CommandRecord, CommandType, FLAG_POST_ONLY, STP_ACCOUNT_DEFAULT, decodeCommand, encodeCommand } from '../../engine/command.js';
import type { BackOffice } from '../../engine/back-office.js';
import { EVENT_SLOTS, EventRecord, EventType, decodeEvent, encodeEvent } from '../../engine/event.js';
import { notionalMinor } from '../../engine/money.js';
import { Portfolio } from '../../engine/portfolio.js';
import { FILL_LIQUIDITY_NAME, FillLiquidity } from '../../engine/replay-venue.js';
import { CANCEL_REASON_NAME, NO_PRICE, ORDER_TYPE_NAME, OrderType, REJECT_NAME, SIDE_NAME, Side, TIF_NAME, TimeInForce } from '../../engine/types.js';
import type { RunComponent, RunContext } from '../run.js';
import { rngStream } from '../rng.js';
import type { Scenario } from '../scenario.js';
import { formatNs } from '../scenario-time.js';
import type {
  Fill,
  InstrumentInfo,
  MarketTrade,
  OrderRequest,
  OrderStatus,
  OrderUpdate,
  OrderUpdateKind,
  OrderView,
  Pnl,
  Quote,
  ReplayLiquidity,
  SideName,
  Strategy,
  StrategyContext,
  StrategyFactory,
} from './api.js';
import { DelayQueue } from './delay-queue.js';
import { StrategyError } from './errors.js';
import { LatencyChannel } from './latency.js';
import { checkStrategyObject } from './loader.js';
import { BacktestRecord, type OrderRecord, type VenueAccount } from './record.js';
import type { StrategySpec } from './spec.js';

/** Lines kept in strategy.log per strategy; the rest are counted. */
export const LOG_LINES_MAX = 100_000;

const ROLE_TAKER = 1;
const ROLE_MAKER = 2;
/** A fill event of a replayed instrument: the own order's side, leaves and liquidity are in the event. */
const ROLE_REPLAY = 3;
/** Ack queue entry: the event, the role of the own order in a trade, the order's index, and its time in queue (-1 none). */
const ACK_SLOTS = EVENT_SLOTS + 3;

interface MutableOrderView {
  clOrdId: number;
  instrument: number;
  side: SideName;
  type: OrderView['type'];
  tif: OrderView['tif'];
  postOnly: boolean;
  priceTicks: number;
  stopPriceTicks: number;
  sizeLots: number;
  filledLots: number;
  leavesLots: number;
  status: OrderStatus;
  pendingChange: boolean;
  tag: string;
  orderId: number;
  reason: string;
  submittedNs: number;
}

interface MutableQuote {
  instrument: number;
  bidTicks: number | null;
  bidLots: number;
  askTicks: number | null;
  askLots: number;
  venueTsNs: number;
}

interface MutableTrade {
  instrument: number;
  priceTicks: number;
  sizeLots: number;
  aggressor: SideName | null;
  venueTsNs: number;
}

/**
 * One strategy in a run: a RunComponent that tees the venue's events into two
 * latency channels (market data, and acknowledgements of its own orders),
 * delivers them to the strategy's handlers on the virtual clock, and sends its
 * orders to the venue through a third channel (order entry). It also keeps the
 * venue-truth record (BacktestRecord) the metrics are built from.
 *
 * The venue is only ever touched from timers (ctx.apply), never from onEvent:
 * one writer of state.
 */
export class StrategyRunner implements RunComponent {
  readonly name: string;
  readonly record: BacktestRecord;
  readonly logLines: string[] = [];
  logDropped = 0;

  private run!: RunContext;
  private strategy!: Strategy;
  private readonly ctx: StrategyContext;
  private readonly account: number;
  private readonly base: number;
  private readonly subscribed: Uint8Array;
  private readonly feedCh: LatencyChannel;
  private readonly orderCh: LatencyChannel;
  private readonly ackCh: LatencyChannel;
  private readonly mdQ = new DelayQueue(EVENT_SLOTS);
  private readonly ackQ = new DelayQueue(ACK_SLOTS);
  private readonly orderQ = new DelayQueue(COMMAND_SLOTS);
  private mdScheduled = false;
  private ackScheduled = false;
  private orderScheduled = false;
  private readonly ev = new EventRecord();
  private readonly cmd = new CommandRecord();
  private readonly orderIdToIndex = new Map<number, number>();
  private readonly views: MutableOrderView[] = [];
  /** The strategy's own view of its fills: positions and P&L as acknowledged. */
  private readonly viewPortfolio: Portfolio;
  private readonly viewQuotes: (MutableQuote | null)[];
  private readonly viewTrades: (MutableTrade | null)[];
  private readonly quoteArg: MutableQuote = { instrument: 0, bidTicks: null, bidLots: 0, askTicks: null, askLots: 0, venueTsNs: 0 };
  private readonly tradeArg: MutableTrade = { instrument: 0, priceTicks: 0, sizeLots: 0, aggressor: 'buy', venueTsNs: 0 };
  private readonly instrumentInfos: InstrumentInfo[];
  private readonly symbolIndex = new Map<string, number>();
  private ended = false;
  private readonly depthPx = new Float64Array(5);
  private readonly depthSz = new Float64Array(5);
  private readonly depthCt = new Float64Array(5);
  /** With a back office: how each instrument is marked (1 = mid), for the strategy's view of its P&L. */
  private readonly viewMarkToMid: Uint8Array | null;
  private readonly viewMarks: Float64Array;

  /** `venue`: the scenario's back office, if any; the strategy's account is then one of its accounts. */
  constructor(
    private readonly scenario: Scenario,
    readonly spec: StrategySpec,
    private readonly factory: StrategyFactory,
    venue: BackOffice | null = null,
  ) {
    this.name = `strategy/${spec.name}`;
    this.account = spec.account;
    this.base = spec.clOrdIdStart;
    const n = scenario.instruments.length;
    this.subscribed = new Uint8Array(n);
    for (const i of spec.instruments) this.subscribed[i] = 1;
    // Each channel draws from its own stream so that, say, more market data never shifts order latencies.
    const purpose = `latency/${spec.name}`;
    this.feedCh = new LatencyChannel(spec.latency.feed, rngStream(scenario.seed, `${purpose}/feed`));
    this.orderCh = new LatencyChannel(spec.latency.order, rngStream(scenario.seed, `${purpose}/order`));
    this.ackCh = new LatencyChannel(spec.latency.ack, rngStream(scenario.seed, `${purpose}/ack`));
    this.record = new BacktestRecord(scenario.instruments, spec.fees, venue === null ? null : venueAccount(scenario, venue, spec.account));
    const futures = venue === null ? null : venue.config.instruments.map((i) => i.isFuture);
    this.viewPortfolio = new Portfolio(1, this.record.num.map((num, i) => ({ num, den: this.record.den[i]!, isFuture: futures?.[i] ?? false })), [0]);
    this.viewMarkToMid = venue === null ? null : Uint8Array.from(venue.config.instruments, (i) => (i.markTo === 'mid' ? 1 : 0));
    this.viewMarks = new Float64Array(scenario.instruments.length);
    this.viewQuotes = scenario.instruments.map(() => null);
    this.viewTrades = scenario.instruments.map(() => null);
    this.instrumentInfos = scenario.instruments.map((i) => ({
      index: i.index,
      symbol: i.symbol,
      tickSize: i.tickSize,
      lotSize: i.lotSize,
      referencePriceTicks: i.referencePriceTicks,
    }));
    scenario.instruments.forEach((i) => this.symbolIndex.set(i.symbol, i.index));
    this.ctx = this.makeContext();
  }

  // ---- RunComponent ----------------------------------------------------------

  start(run: RunContext): void {
    this.run = run;
    const sc = this.scenario;
    this.strategy = checkStrategyObject(this.guard('factory', sc.openNs, () => this.factory(this.spec.params)), this.spec, sc.file);
    // The run scheduled the session open before components start, so onStart sees an open market.
    run.schedule(sc.openNs, (t) => this.guard('onStart', t, () => this.strategy.onStart?.(this.ctx)));
    let t = sc.openNs;
    const step = this.spec.sampleNs;
    const sample = (now: number): void => {
      this.sample(now);
      if (now >= sc.closeNs) return;
      t = Math.min(t + step, sc.closeNs);
      run.schedule(t, sample);
    };
    // Scheduled after the run's close timer, so the last sample sees the book after DAY expiry.
    run.schedule(sc.openNs, sample);
  }

  onEvent(e: EventRecord): void {
    const acct = this.account;
    // The back office cleared the previous event's trade before this event was published.
    if (this.record.unsettled) this.record.settle();
    switch (e.type) {
      case EventType.Quote:
        this.record.onQuote(e.tsNs, e.instrument, e.bidPriceTicks, e.bidSizeLots, e.askPriceTicks, e.askSizeLots);
        if (this.subscribed[e.instrument] === 1) this.pushMd(e);
        return;
      case EventType.Trade: {
        this.record.onTrade(e.tsNs, e.instrument, e.priceTicks);
        if (this.subscribed[e.instrument] === 1) this.pushMd(e);
        if (e.account === acct && this.isOwn(e.clOrdId)) this.ownFill(e, ROLE_TAKER);
        if (e.makerAccount === acct && this.orderIdToIndex.has(e.makerOrderId)) this.ownFill(e, ROLE_MAKER);
        return;
      }
      case EventType.MarketTrade:
        this.record.onTrade(e.tsNs, e.instrument, e.priceTicks);
        if (this.subscribed[e.instrument] === 1) this.pushMd(e);
        return;
      case EventType.Fill:
        if (e.account === acct && this.isOwn(e.clOrdId)) this.replayFill(e);
        return;
      case EventType.Level:
      case EventType.Action:
      case EventType.SessionOpen:
      case EventType.SessionClose:
        return;
      default:
        if (e.account === acct && this.isOwn(e.clOrdId)) this.ownEvent(e);
    }
  }

  async finish(_run: RunContext, _runDir: string, _extra: Record<string, unknown>): Promise<void> {
    this.record.finish();
    this.ended = true;
    this.guard('onEnd', this.run.nowNs(), () => this.strategy.onEnd?.(this.ctx));
  }

  // ---- venue truth -----------------------------------------------------------

  private isOwn(clOrdId: number): boolean {
    return clOrdId > this.base && clOrdId <= this.base + this.record.orders.length;
  }

  private orderOf(clOrdId: number): OrderRecord {
    return this.record.orders[clOrdId - this.base - 1]!;
  }

  private ownEvent(e: EventRecord): void {
    const o = this.orderOf(e.clOrdId);
    const t = e.tsNs;
    switch (e.type) {
      case EventType.OrderAccepted:
        o.orderId = e.orderId;
        o.status = 'open';
        this.orderIdToIndex.set(e.orderId, e.clOrdId - this.base - 1);
        break;
      case EventType.OrderRested:
        o.queueSinceNs = t;
        break;
      case EventType.OrderModified:
        o.modifies++;
        // The order's size is what it has filled plus its new leaves.
        o.sizeLots = o.filledLots + e.sizeLots;
        // A new price or a larger size goes to the back of the queue.
        if ((e.flags & 1) === 0 && o.queueSinceNs >= 0) {
          o.restedNs += t - o.queueSinceNs;
          o.queueSinceNs = t;
        }
        break;
      case EventType.OrderCancelled:
      case EventType.OrderExpired:
      case EventType.OrderRejected:
        o.status = e.type === EventType.OrderCancelled ? 'cancelled' : e.type === EventType.OrderExpired ? 'expired' : 'rejected';
        o.reason = e.type === EventType.OrderCancelled ? (CANCEL_REASON_NAME[e.reason as keyof typeof CANCEL_REASON_NAME] ?? '') : e.type === EventType.OrderRejected ? (REJECT_NAME[e.reason as keyof typeof REJECT_NAME] ?? '') : 'expired';
        this.leave(o, t);
        break;
      default:
        break;
    }
    this.pushAck(e, 0, e.clOrdId - this.base - 1);
  }

  private leave(o: OrderRecord, t: number): void {
    o.doneNs = t;
    if (o.queueSinceNs >= 0) o.restedNs += t - o.queueSinceNs;
    if (o.orderId !== 0) this.orderIdToIndex.delete(o.orderId);
  }

  private ownFill(e: EventRecord, role: number): void {
    const maker = role === ROLE_MAKER;
    const idx = maker ? this.orderIdToIndex.get(e.makerOrderId)! : e.clOrdId - this.base - 1;
    const o = this.record.orders[idx]!;
    const side: Side = maker ? (e.side === Side.Buy ? Side.Sell : Side.Buy) : (e.side as Side);
    this.record.addFill({
      seq: e.seq,
      tsNs: e.tsNs,
      instrument: e.instrument,
      clOrdId: o.clOrdId,
      orderId: o.orderId,
      tradeId: e.tradeId,
      side,
      priceTicks: e.priceTicks,
      sizeLots: e.sizeLots,
      maker,
      queueNs: maker && o.queueSinceNs >= 0 ? e.tsNs - o.queueSinceNs : -1,
      replayLiquidity: 0,
      queueAtEntryLots: -1,
    });
    this.afterFill(e, o, maker ? e.makerLeavesLots : e.leavesLots, role, idx);
  }

  /** An own fill against a replayed market: the venue measured its queue (docs/replay.md). */
  private replayFill(e: EventRecord): void {
    const idx = e.clOrdId - this.base - 1;
    const o = this.record.orders[idx]!;
    const maker = e.code !== FillLiquidity.Taker;
    this.record.addFill({
      seq: e.seq,
      tsNs: e.tsNs,
      instrument: e.instrument,
      clOrdId: o.clOrdId,
      orderId: o.orderId,
      tradeId: e.tradeId,
      side: e.side as Side,
      priceTicks: e.priceTicks,
      sizeLots: e.sizeLots,
      maker,
      queueNs: maker ? e.ref : -1,
      replayLiquidity: e.code as FillLiquidity,
      queueAtEntryLots: maker ? e.makerLeavesLots : -1,
    });
    this.afterFill(e, o, e.leavesLots, ROLE_REPLAY, idx);
  }

  private afterFill(e: EventRecord, o: OrderRecord, leaves: number, role: number, idx: number): void {
    o.filledLots += e.sizeLots;
    o.fills++;
    if (leaves === 0) {
      o.status = 'filled';
      this.leave(o, e.tsNs);
    }
    this.pushAck(e, role, idx, this.record.fills[this.record.fills.length - 1]!.queueNs);
  }

  private sample(now: number): void {
    const r = this.record;
    r.settle();
    const ins = this.spec.instruments;
    const eq = r.equityMinor();
    const s = {
      tsNs: now,
      ...eq,
      bidTicks: [] as number[],
      askTicks: [] as number[],
      bidLots: [] as number[],
      askLots: [] as number[],
      bidDepthLots: [] as number[],
      askDepthLots: [] as number[],
      positionLots: [] as number[],
    };
    for (const i of ins) {
      s.bidTicks.push(r.bid[i]!);
      s.askTicks.push(r.ask[i]!);
      s.bidLots.push(r.bidLots[i]!);
      s.askLots.push(r.askLots[i]!);
      s.bidDepthLots.push(this.depth(i, Side.Buy));
      s.askDepthLots.push(this.depth(i, Side.Sell));
      s.positionLots.push(r.position(i));
    }
    r.samples.push(s);
  }

  /** Lots in the best five levels of one side (displayed: recorded plus own, on a replayed instrument). */
  private depth(i: number, side: Side): number {
    const ex = this.run.exchange;
    const k = (ex.replayVenue(i) ?? ex.book(i)).depth(side, 5, this.depthPx, this.depthSz, this.depthCt);
    let s = 0;
    for (let j = 0; j < k; j++) s += this.depthSz[j]!;
    return s;
  }

  // ---- channels --------------------------------------------------------------

  private pushMd(e: EventRecord): void {
    const due = this.feedCh.arrival(e.tsNs);
    const at = this.mdQ.push(due);
    encodeEvent(e, this.mdQ.buffer, at);
    if (!this.mdScheduled) {
      this.mdScheduled = true;
      this.run.schedule(due, this.flushMd);
    }
  }

  private pushAck(e: EventRecord, role: number, index: number, queueNs = -1): void {
    const due = this.ackCh.arrival(e.tsNs);
    const at = this.ackQ.push(due);
    const buf = this.ackQ.buffer;
    encodeEvent(e, buf, at);
    buf[at + EVENT_SLOTS] = role;
    buf[at + EVENT_SLOTS + 1] = index;
    buf[at + EVENT_SLOTS + 2] = queueNs;
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      this.run.schedule(due, this.flushAck);
    }
  }

  private readonly flushMd = (now: number): void => {
    const q = this.mdQ;
    const e = this.ev;
    while (q.peekDue() <= now) {
      decodeEvent(q.buffer, q.headOffset(), e);
      q.shift();
      if (e.type === EventType.Quote) this.deliverQuote(e, now);
      else this.deliverTrade(e, now);
    }
    if (q.length > 0) this.run.schedule(q.peekDue(), this.flushMd);
    else this.mdScheduled = false;
  };

  private readonly flushAck = (now: number): void => {
    const q = this.ackQ;
    const e = this.ev;
    while (q.peekDue() <= now) {
      const at = q.headOffset();
      decodeEvent(q.buffer, at, e);
      const role = q.buffer[at + EVENT_SLOTS]!;
      const index = q.buffer[at + EVENT_SLOTS + 1]!;
      const queueNs = q.buffer[at + EVENT_SLOTS + 2]!;
      q.shift();
      this.deliverAck(e, role, index, queueNs, now);
    }
    if (q.length > 0) this.run.schedule(q.peekDue(), this.flushAck);
    else this.ackScheduled = false;
  };

  private readonly flushOrders = (now: number): void => {
    const q = this.orderQ;
    const c = this.cmd;
    while (q.peekDue() <= now) {
      decodeCommand(q.buffer, q.headOffset(), c);
      q.shift();
      c.tsNs = now;
      if (c.type === CommandType.Submit) {
        const o = this.orderOf(c.clOrdId);
        o.arriveNs = now;
      }
      this.run.apply(c);
    }
    if (q.length > 0) this.run.schedule(q.peekDue(), this.flushOrders);
    else this.orderScheduled = false;
  };

  private send(c: CommandRecord): void {
    const due = this.orderCh.arrival(this.run.nowNs());
    const at = this.orderQ.push(due);
    encodeCommand(c, this.orderQ.buffer, at);
    if (!this.orderScheduled) {
      this.orderScheduled = true;
      this.run.schedule(due, this.flushOrders);
    }
  }

  // ---- delivery to the strategy ----------------------------------------------

  private deliverQuote(e: EventRecord, now: number): void {
    const i = e.instrument;
    let q = this.viewQuotes[i];
    if (q == null) {
      q = { instrument: i, bidTicks: null, bidLots: 0, askTicks: null, askLots: 0, venueTsNs: 0 };
      this.viewQuotes[i] = q;
    }
    q.bidTicks = e.bidPriceTicks === NO_PRICE ? null : e.bidPriceTicks;
    q.bidLots = e.bidSizeLots;
    q.askTicks = e.askPriceTicks === NO_PRICE ? null : e.askPriceTicks;
    q.askLots = e.askSizeLots;
    q.venueTsNs = e.tsNs;
    const h = this.strategy.onQuote;
    if (h === undefined) return;
    const a = this.quoteArg;
    a.instrument = i;
    a.bidTicks = q.bidTicks;
    a.bidLots = q.bidLots;
    a.askTicks = q.askTicks;
    a.askLots = q.askLots;
    a.venueTsNs = q.venueTsNs;
    let r: unknown;
    try {
      r = h.call(this.strategy, this.ctx, a);
    } catch (err) {
      throw this.failure('onQuote', now, err);
    }
    if (r != null) this.checkSync('onQuote', now, r);
  }

  private deliverTrade(e: EventRecord, now: number): void {
    const i = e.instrument;
    let t = this.viewTrades[i];
    if (t == null) {
      t = { instrument: i, priceTicks: 0, sizeLots: 0, aggressor: 'buy', venueTsNs: 0 };
      this.viewTrades[i] = t;
    }
    t.priceTicks = e.priceTicks;
    t.sizeLots = e.sizeLots;
    // A replayed print may not know its aggressor (side 2).
    t.aggressor = SIDE_NAME[e.side as Side] ?? null;
    t.venueTsNs = e.tsNs;
    const h = this.strategy.onTrade;
    if (h === undefined) return;
    const a = this.tradeArg;
    a.instrument = i;
    a.priceTicks = t.priceTicks;
    a.sizeLots = t.sizeLots;
    a.aggressor = t.aggressor;
    a.venueTsNs = t.venueTsNs;
    let r: unknown;
    try {
      r = h.call(this.strategy, this.ctx, a);
    } catch (err) {
      throw this.failure('onTrade', now, err);
    }
    if (r != null) this.checkSync('onTrade', now, r);
  }

  private deliverAck(e: EventRecord, role: number, index: number, queueNs: number, now: number): void {
    const v = this.views[index]!;
    if (role !== 0) {
      const replay = role === ROLE_REPLAY;
      const maker = replay ? e.code !== FillLiquidity.Taker : role === ROLE_MAKER;
      // In a trade event `side` is the taker's; a replay fill event carries the own order's.
      const side: Side = replay || !maker ? (e.side as Side) : e.side === Side.Buy ? Side.Sell : Side.Buy;
      const fee = this.record.fees.fee(e.instrument, maker, e.priceTicks, e.sizeLots);
      this.viewPortfolio.onFill(0, e.instrument, side, e.priceTicks, e.sizeLots, fee);
      v.filledLots += e.sizeLots;
      v.leavesLots = replay || !maker ? e.leavesLots : e.makerLeavesLots;
      if (v.leavesLots === 0) {
        v.status = 'filled';
        v.pendingChange = false;
      }
      const h = this.strategy.onFill;
      if (h === undefined) return;
      const f: Fill = {
        order: v,
        instrument: e.instrument,
        side: SIDE_NAME[side],
        priceTicks: e.priceTicks,
        sizeLots: e.sizeLots,
        liquidity: maker ? 'maker' : 'taker',
        replayLiquidity: replay ? (FILL_LIQUIDITY_NAME[e.code as FillLiquidity] as ReplayLiquidity) : null,
        queueNs: queueNs >= 0 ? queueNs : null,
        queueAtEntryLots: replay && maker ? e.makerLeavesLots : null,
        feeMinor: fee,
        positionLots: this.viewPortfolio.position(0, e.instrument),
        venueTsNs: e.tsNs,
      };
      let r: unknown;
      try {
        r = h.call(this.strategy, this.ctx, f);
      } catch (err) {
        throw this.failure('onFill', now, err);
      }
      if (r != null) this.checkSync('onFill', now, r);
      return;
    }
    let kind: OrderUpdateKind;
    let reason = '';
    switch (e.type) {
      case EventType.OrderAccepted:
        kind = 'accepted';
        v.orderId = e.orderId;
        if (v.status === 'pending') v.status = 'accepted';
        break;
      case EventType.OrderRested:
        kind = 'rested';
        if (v.status === 'pending' || v.status === 'accepted') v.status = 'open';
        v.leavesLots = e.leavesLots;
        break;
      case EventType.OrderCancelled:
        kind = 'cancelled';
        reason = CANCEL_REASON_NAME[e.reason as keyof typeof CANCEL_REASON_NAME] ?? '';
        v.status = 'cancelled';
        v.leavesLots = 0;
        v.pendingChange = false;
        break;
      case EventType.OrderExpired:
        kind = 'expired';
        v.status = 'expired';
        v.leavesLots = 0;
        v.pendingChange = false;
        break;
      case EventType.OrderRejected:
        kind = 'rejected';
        reason = REJECT_NAME[e.reason as keyof typeof REJECT_NAME] ?? '';
        v.status = 'rejected';
        v.leavesLots = 0;
        break;
      case EventType.OrderModified:
        kind = 'modified';
        v.priceTicks = e.priceTicks;
        v.leavesLots = e.sizeLots;
        v.sizeLots = v.filledLots + e.sizeLots;
        v.pendingChange = false;
        break;
      case EventType.ModifyRejected:
      case EventType.CancelRejected:
        kind = e.type === EventType.ModifyRejected ? 'modify-rejected' : 'cancel-rejected';
        reason = REJECT_NAME[e.reason as keyof typeof REJECT_NAME] ?? '';
        v.pendingChange = false;
        break;
      case EventType.StopTriggered:
        kind = 'stop-triggered';
        break;
      default:
        return;
    }
    v.reason = reason !== '' ? reason : v.reason;
    const h = this.strategy.onOrderUpdate;
    if (h === undefined) return;
    const u: OrderUpdate = { kind, order: v, reason, venueTsNs: e.tsNs };
    let r: unknown;
    try {
      r = h.call(this.strategy, this.ctx, u);
    } catch (err) {
      throw this.failure('onOrderUpdate', now, err);
    }
    if (r != null) this.checkSync('onOrderUpdate', now, r);
  }

  // ---- the context -----------------------------------------------------------

  private guard<T>(handler: string, now: number, fn: () => T): T {
    let r: T;
    try {
      r = fn();
    } catch (err) {
      throw this.failure(handler, now, err);
    }
    if (r != null) this.checkSync(handler, now, r);
    return r;
  }

  /**
   * Handlers (and the factory) must be synchronous. An async one returns a promise the run
   * cannot wait for: each await resumes later, after the virtual clock has moved on (at the
   * session close, with the handler's argument reused), so its orders would go out at the
   * wrong virtual time with no error. Such a handler stops the run instead, with one line.
   */
  private checkSync(handler: string, now: number, r: unknown): void {
    if (typeof r !== 'object' && typeof r !== 'function') return;
    const then = (r as { then?: unknown }).then;
    if (typeof then !== 'function') return;
    // Settle its outcome here, so a later rejection is not Node's unhandled-rejection crash;
    // and end the strategy, so its continuations cannot send orders.
    (then as (ok: unknown, fail: (e: unknown) => void) => unknown).call(r, undefined, () => undefined);
    this.ended = true;
    throw this.failure(handler, now, `handlers must be synchronous: ${handler} returned a promise (an async function, or one returning a promise); an await would resume after the virtual clock moved on`);
  }

  private failure(handler: string, now: number, err: unknown): Error {
    if (err instanceof StrategyError) return err;
    return new StrategyError(this.spec.name, handler, now, err, this.spec.module, this.spec.moduleFile, this.scenario.sessionDate);
  }

  private instrumentIndex(x: number | string, what: string): number {
    const i = typeof x === 'string' ? this.symbolIndex.get(x) : x;
    if (i === undefined || !Number.isInteger(i) || i < 0 || i >= this.instrumentInfos.length) {
      throw new TypeError(`${what}: unknown instrument ${JSON.stringify(x)}; expected one of ${this.instrumentInfos.map((s) => JSON.stringify(s.symbol)).join(', ')} or their index`);
    }
    return i;
  }

  private checkLive(what: string): void {
    if (this.ended) throw new Error(`${what}: the run is over (no orders from onEnd)`);
  }

  private makeContext(): StrategyContext {
    const self = this;
    const sc = this.scenario;
    const spec = this.spec;
    const ctx: StrategyContext = {
      name: spec.name,
      params: Object.freeze({ ...spec.params }),
      rng: rngStream(sc.seed, `strategy/${spec.name}`),
      instruments: this.instrumentInfos,
      session: { openNs: sc.openNs, closeNs: sc.closeNs },
      nowNs: () => self.run.nowNs(),
      instrument(x) {
        return self.instrumentInfos[self.instrumentIndex(x, 'instrument')]!;
      },
      submit(req: OrderRequest): number {
        self.checkLive('submit');
        const i = self.instrumentIndex(req.instrument, 'submit');
        const side = SIDE_NAME.indexOf(req.side);
        if (side < 0) throw new TypeError(`submit: side must be "buy" or "sell", got ${JSON.stringify(req.side)}`);
        const type = ORDER_TYPE_NAME.indexOf(req.type ?? 'limit');
        if (type < 0) throw new TypeError(`submit: type must be one of ${ORDER_TYPE_NAME.join(', ')}, got ${JSON.stringify(req.type)}`);
        const tifName = req.tif ?? (type === OrderType.Market ? 'IOC' : 'GTC');
        const tif = TIF_NAME.indexOf(tifName);
        if (tif < 0) throw new TypeError(`submit: tif must be one of ${TIF_NAME.join(', ')}, got ${JSON.stringify(req.tif)}`);
        if (typeof req.sizeLots !== 'number') throw new TypeError(`submit: sizeLots must be a number, got ${JSON.stringify(req.sizeLots)}`);
        const priced = type === OrderType.Limit || type === OrderType.StopLimit;
        const stop = type === OrderType.StopMarket || type === OrderType.StopLimit;
        if (priced && typeof req.priceTicks !== 'number') throw new TypeError(`submit: a ${ORDER_TYPE_NAME[type]} order needs priceTicks (a number), got ${JSON.stringify(req.priceTicks)}`);
        if (stop && typeof req.stopPriceTicks !== 'number') throw new TypeError(`submit: a ${ORDER_TYPE_NAME[type]} order needs stopPriceTicks, got ${JSON.stringify(req.stopPriceTicks)}`);
        const now = self.run.nowNs();
        const k = self.record.orders.length;
        const clOrdId = self.base + k + 1;
        const priceTicks = priced ? req.priceTicks! : 0;
        const stopPriceTicks = stop ? req.stopPriceTicks! : 0;
        const postOnly = req.postOnly === true;
        const tag = req.tag ?? '';
        self.record.orders.push({
          clOrdId,
          orderId: 0,
          instrument: i,
          side,
          orderType: type,
          tif,
          postOnly,
          priceTicks,
          stopPriceTicks,
          sizeLots: req.sizeLots,
          tag,
          submitNs: now,
          arriveNs: -1,
          doneNs: -1,
          status: 'pending',
          reason: '',
          filledLots: 0,
          fills: 0,
          queueSinceNs: -1,
          restedNs: 0,
          modifies: 0,
          cancelsSent: 0,
        });
        self.views.push({
          clOrdId,
          instrument: i,
          side: req.side,
          type: ORDER_TYPE_NAME[type]!,
          tif: TIF_NAME[tif]!,
          postOnly,
          priceTicks,
          stopPriceTicks,
          sizeLots: req.sizeLots,
          filledLots: 0,
          leavesLots: req.sizeLots,
          status: 'pending',
          pendingChange: false,
          tag,
          orderId: 0,
          reason: '',
          submittedNs: now,
        });
        const c = self.cmd;
        c.clear();
        c.type = CommandType.Submit;
        c.instrument = i;
        c.account = self.account;
        c.clOrdId = clOrdId;
        c.side = side;
        c.orderType = type;
        c.tif = tif as TimeInForce;
        c.priceTicks = priceTicks;
        c.sizeLots = req.sizeLots;
        c.stopPriceTicks = stopPriceTicks;
        c.flags = postOnly ? FLAG_POST_ONLY : 0;
        c.stp = STP_ACCOUNT_DEFAULT;
        self.send(c);
        return clOrdId;
      },
      cancel(clOrdId: number): void {
        self.checkLive('cancel');
        const v = self.ownView(clOrdId, 'cancel');
        v.pendingChange = true;
        self.record.orders[clOrdId - self.base - 1]!.cancelsSent++;
        const c = self.cmd;
        c.clear();
        c.type = CommandType.Cancel;
        c.instrument = v.instrument;
        c.account = self.account;
        c.clOrdId = clOrdId;
        self.send(c);
      },
      modify(clOrdId: number, change: { priceTicks?: number; sizeLots: number }): void {
        self.checkLive('modify');
        const v = self.ownView(clOrdId, 'modify');
        if (typeof change.sizeLots !== 'number') throw new TypeError(`modify: sizeLots must be a number, got ${JSON.stringify(change.sizeLots)}`);
        v.pendingChange = true;
        const c = self.cmd;
        c.clear();
        c.type = CommandType.Modify;
        c.instrument = v.instrument;
        c.account = self.account;
        c.clOrdId = clOrdId;
        c.priceTicks = change.priceTicks ?? v.priceTicks;
        c.sizeLots = change.sizeLots;
        self.send(c);
      },
      order(clOrdId: number): OrderView | undefined {
        return self.views[clOrdId - self.base - 1];
      },
      openOrders(instrument?: number | string): OrderView[] {
        const i = instrument === undefined ? -1 : self.instrumentIndex(instrument, 'openOrders');
        const out: OrderView[] = [];
        for (const v of self.views) {
          if ((i < 0 || v.instrument === i) && (v.status === 'pending' || v.status === 'accepted' || v.status === 'open')) out.push(v);
        }
        return out;
      },
      position(instrument: number | string): number {
        return self.viewPortfolio.position(0, self.instrumentIndex(instrument, 'position'));
      },
      pnl(): Pnl {
        if (self.viewMarkToMid !== null) return self.venuePnlView();
        const p = self.viewPortfolio;
        const realizedMinor = p.accountRealizedMinor(0);
        const feesMinor = p.accountFeesMinor(0);
        let unrealizedMinor = 0;
        for (let i = 0; i < self.instrumentInfos.length; i++) {
          const pos = p.position(0, i);
          if (pos === 0) continue;
          const q = self.viewQuotes[i];
          const t = self.viewTrades[i];
          const m2 = q && q.bidTicks !== null && q.askTicks !== null ? q.bidTicks + q.askTicks : 2 * (t ? t.priceTicks : self.instrumentInfos[i]!.referencePriceTicks);
          const v = notionalMinor(m2, pos > 0 ? pos : -pos, self.record.num[i]!, self.record.den[i]! * 2);
          unrealizedMinor += (pos > 0 ? v : -v) - p.costMinor(0, i);
        }
        return { realizedMinor, unrealizedMinor, feesMinor, totalMinor: realizedMinor + unrealizedMinor - feesMinor };
      },
      top(instrument) {
        return self.viewQuotes[self.instrumentIndex(instrument, 'top')] ?? null;
      },
      lastTrade(instrument) {
        return self.viewTrades[self.instrumentIndex(instrument, 'lastTrade')] ?? null;
      },
      setTimer(when, tag = '') {
        const now = self.run.nowNs();
        const at = 'atNs' in when ? when.atNs : now + when.afterNs;
        if (!Number.isSafeInteger(at) || at < now) throw new RangeError(`setTimer: expected a whole-ns time not before now (${now}), got ${at}`);
        if (at > sc.closeNs) return null;
        let id = 0;
        id = self.run.schedule(at, (t) => self.guard('onTimer', t, () => self.strategy.onTimer?.(ctx, tag, id)));
        return id;
      },
      cancelTimer(id) {
        return self.run.cancelTimer(id);
      },
      beginParentOrder(p) {
        const i = self.instrumentIndex(p.instrument, 'beginParentOrder');
        const side = SIDE_NAME.indexOf(p.side);
        if (side < 0) throw new TypeError(`beginParentOrder: side must be "buy" or "sell", got ${JSON.stringify(p.side)}`);
        if (!Number.isSafeInteger(p.sizeLots) || p.sizeLots <= 0) throw new RangeError(`beginParentOrder: sizeLots must be a positive whole number, got ${p.sizeLots}`);
        const q = self.viewQuotes[i];
        // The decision price is what the strategy could see, not the venue's present.
        const arrival2 = q && q.bidTicks !== null && q.askTicks !== null ? q.bidTicks + q.askTicks : 2 * self.instrumentInfos[i]!.referencePriceTicks;
        self.record.parents.push({ instrument: i, side: side as Side, sizeLots: p.sizeLots, startNs: self.run.nowNs(), arrival2 });
      },
      log(...parts) {
        if (self.logLines.length >= LOG_LINES_MAX) {
          self.logDropped++;
          return;
        }
        const text = parts.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
        self.logLines.push(`${formatNs(self.run.nowNs(), sc.sessionDate)} [${spec.name}] ${text}`);
      },
    };
    return ctx;
  }

  /**
   * With accounts: the venue account's P&L as the strategy knows it: its acknowledged fills
   * with the venue's fees, marked by the back office's rule (mid rounded down to the tick for
   * instruments marked to mid, else the last trade, else the reference) on what it has seen.
   */
  private venuePnlView(): Pnl {
    const p = this.viewPortfolio;
    const m = this.viewMarks;
    for (let i = 0; i < m.length; i++) {
      const q = this.viewQuotes[i];
      const t = this.viewTrades[i];
      let mark = t ? t.priceTicks : this.instrumentInfos[i]!.referencePriceTicks;
      if (this.viewMarkToMid![i] === 1 && q && q.bidTicks !== null && q.askTicks !== null) mark = Math.floor((q.bidTicks + q.askTicks) / 2);
      m[i] = mark;
    }
    const realizedMinor = p.accountRealizedMinor(0);
    const feesMinor = p.accountFeesMinor(0);
    const unrealizedMinor = p.accountUnrealizedMinor(0, m);
    return { realizedMinor, unrealizedMinor, feesMinor, totalMinor: realizedMinor + unrealizedMinor - feesMinor };
  }

  private ownView(clOrdId: number, what: string): MutableOrderView {
    const v = Number.isInteger(clOrdId) ? this.views[clOrdId - this.base - 1] : undefined;
    if (v === undefined) throw new RangeError(`${what}: ${clOrdId} is not a clOrdId this strategy's submit returned`);
    return v;
  }
}

/** The strategy's account as the back office keeps it (see VenueAccount in record.ts). */
function venueAccount(sc: Scenario, bo: BackOffice, account: number): VenueAccount {
  const cfg = bo.config;
  const currency = cfg.accounts[account]!.currency;
  return {
    portfolio: bo.clearing.portfolio,
    account,
    fees: bo.clearing.fees,
    num: cfg.instruments.map((i) => i.num),
    den: cfg.instruments.map((i) => i.den),
    moneyExponent: sc.backOffice?.moneyExponents[account] ?? cfg.currencies[currency]!.minorExponent,
    // updateMarks only recomputes what the back office itself would: the same marks report positions prints.
    marks: () => bo.updateMarks(),
  };
}
