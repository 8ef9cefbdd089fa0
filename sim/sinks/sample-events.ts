import seedrandom from 'seedrandom';
import { EVENT_SLOTS, EventRecord, EventType, encodeEvent } from '../../engine/event.js';
import type { Instrument } from '../../engine/instrument.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, TimeInForce } from '../../engine/types.js';

/**
 * A seeded, plausible event stream (every event type, weighted like a busy
 * book: mostly accepts, rests, trades, cancels and market data) for the sinks'
 * tests and benchmarks, so they do not depend on the matching engine.
 * The events are not a consistent book history; only their shapes are realistic.
 */

export const SAMPLE_INSTRUMENTS: Instrument[] = [
  { index: 0, symbol: 'ACME', tickSize: '0.05', lotSize: '1', referencePriceTicks: 2000, priceBandBps: 0 },
  { index: 1, symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.001', referencePriceTicks: 120000, priceBandBps: 500 },
];
export const SAMPLE_ACCOUNTS = ['alice', 'bob', 'mm-"1"', 'carol'];

const WEIGHTED_TYPES: EventType[] = [
  ...Array<EventType>(6).fill(EventType.OrderAccepted),
  ...Array<EventType>(4).fill(EventType.OrderRested),
  ...Array<EventType>(4).fill(EventType.Trade),
  ...Array<EventType>(4).fill(EventType.OrderCancelled),
  ...Array<EventType>(4).fill(EventType.Quote),
  ...Array<EventType>(6).fill(EventType.Level),
  EventType.OrderRejected,
  EventType.OrderExpired,
  EventType.OrderModified,
  EventType.ModifyRejected,
  EventType.CancelRejected,
  EventType.StopTriggered,
  EventType.Action,
  EventType.SessionOpen,
  EventType.SessionClose,
];

/** `count` events encoded back to back (EVENT_SLOTS float64s each), seq 1..count, ts non-decreasing. */
export function sampleEvents(count: number, seed: string | number): Float64Array {
  const rnd = seedrandom(String(seed));
  const int = (n: number): number => Math.floor(rnd() * n);
  const out = new Float64Array(count * EVENT_SLOTS);
  const e = new EventRecord();
  let ts = 34_200_000_000_000;
  for (let i = 0; i < count; i++) {
    e.clear();
    e.type = WEIGHTED_TYPES[int(WEIGHTED_TYPES.length)]!;
    e.seq = i + 1;
    ts += int(3) * 1000;
    e.tsNs = ts;
    e.instrument = int(2);
    e.account = int(SAMPLE_ACCOUNTS.length);
    e.orderId = 1 + int(1_000_000);
    e.clOrdId = 1 + int(1_000_000);
    e.side = int(2) as Side;
    const ref = SAMPLE_INSTRUMENTS[e.instrument]!.referencePriceTicks;
    e.priceTicks = ref - 50 + int(100);
    e.sizeLots = 1 + int(5000);
    e.leavesLots = int(5000);
    switch (e.type) {
      case EventType.OrderAccepted:
        e.orderType = int(4) as OrderType;
        e.tif = int(4) as TimeInForce;
        e.stopPriceTicks = ref + int(10);
        e.flags = int(2);
        break;
      case EventType.OrderRejected:
      case EventType.ModifyRejected:
      case EventType.CancelRejected:
        e.reason = (1 + int(18)) as RejectReason;
        break;
      case EventType.OrderCancelled:
        e.reason = (1 + int(4)) as CancelReason;
        break;
      case EventType.OrderModified:
        e.flags = int(2);
        break;
      case EventType.StopTriggered:
        e.stopPriceTicks = ref + int(10);
        break;
      case EventType.Trade:
        e.tradeId = i;
        e.makerOrderId = 1 + int(1_000_000);
        e.makerAccount = int(SAMPLE_ACCOUNTS.length);
        e.makerLeavesLots = int(5000);
        break;
      case EventType.Quote:
        e.bidPriceTicks = int(10) === 0 ? NO_PRICE : ref - 1 - int(5);
        e.bidSizeLots = e.bidPriceTicks === NO_PRICE ? 0 : 1 + int(900);
        e.askPriceTicks = int(10) === 0 ? NO_PRICE : ref + int(5);
        e.askSizeLots = e.askPriceTicks === NO_PRICE ? 0 : 1 + int(900);
        break;
      case EventType.Level:
        e.mdSeq = i;
        e.orderCount = int(20);
        break;
      case EventType.SessionOpen:
      case EventType.SessionClose:
        e.instrument = int(3) - 1;
        break;
      case EventType.Action:
        e.actionIndex = int(100);
        break;
      default:
        break;
    }
    encodeEvent(e, out, i * EVENT_SLOTS);
  }
  return out;
}
