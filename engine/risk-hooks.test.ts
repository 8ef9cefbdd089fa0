import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { CommandRecord, CommandType } from './command.js';
import { EventType, type EventRecord, type EventSink } from './event.js';
import { Exchange } from './exchange.js';
import type { Instrument } from './instrument.js';
import type { MinorAmount } from './money.js';
import { Risk, type RiskAccountView, type RiskLimits } from './risk.js';
import { RiskHooks } from './risk-hooks.js';
import { CancelReason, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

const MID = 10_000;
const ACME: Instrument = { index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: MID, priceBandBps: 0 };

class Cash implements RiskAccountView {
  constructor(private readonly settled = 1e12) {}
  buyingPowerCovers(_a: number, _useBps: number, amount: Readonly<MinorAmount>): boolean {
    return this.settled >= amount.minor;
  }
  marginExcessCovers(_a: number, amount: Readonly<MinorAmount>): boolean {
    return 1e12 >= amount.minor;
  }
}

/** Trades and risk refusals, kept as numbers (the sink's record is reused). */
class Tape implements EventSink {
  readonly posFromTrades: number[];
  readonly rejects = new Map<number, number>();
  /** Cancels as [orderId, reason, flags]. */
  readonly cancels: [number, number, number][] = [];
  /** Trades as [taker account, price, lots]. */
  readonly trades: [number, number, number][] = [];
  constructor(accounts: number) {
    this.posFromTrades = new Array<number>(accounts).fill(0);
  }
  emit(e: EventRecord): void {
    if (e.type === EventType.Trade) {
      const d = e.side === Side.Buy ? e.sizeLots : -e.sizeLots;
      this.posFromTrades[e.account]! += d;
      this.posFromTrades[e.makerAccount]! -= d;
      this.trades.push([e.account, e.priceTicks, e.sizeLots]);
    } else if (e.type === EventType.OrderRejected || e.type === EventType.ModifyRejected) {
      this.rejects.set(e.reason, (this.rejects.get(e.reason) ?? 0) + 1);
    } else if (e.type === EventType.OrderCancelled) {
      this.cancels.push([e.orderId, e.reason, e.flags]);
    }
  }
}

/** A venue with nothing on it, for figures that depend only on the configuration. */
const v0 = () => venue(1, {}, 'cash');

/** `limits` for every account, or for account 0 only when `othersFree`. */
function venue(accounts: number, limits: RiskLimits, type: 'cash' | 'margin' = 'margin', othersFree = false, view: RiskAccountView = new Cash()) {
  const risk = new Risk(
    {
      instruments: [{ num: 1, den: 1, referencePriceTicks: MID, feeReserveCentiBps: 30, initialPerLotMinor: (p) => Math.ceil(p / 2) }],
      accounts: Array.from({ length: accounts }, (_, a) => ({ firm: a % 2, type: a === 0 ? type : 'margin', limits: a === 0 || !othersFree ? limits : {} })),
      firms: [{}, {}],
    },
    view,
  );
  const hooks = new RiskHooks(risk, [MID]);
  const tape = new Tape(accounts);
  const ex = new Exchange(
    { instruments: [ACME], accounts: Array.from({ length: accounts }, (_, a) => ({ name: `a${a}`, stp: StpMode.None })), quotes: false, levels: 0, orderHooks: hooks },
    tape,
  );
  hooks.attach(ex);
  ex.openSession(1);
  let ts = 10;
  const c = new CommandRecord();
  const send = (type: CommandType, account: number, clOrdId: number, side: Side, priceTicks: number, sizeLots: number, orderType = OrderType.Limit, stopPriceTicks = 0): void => {
    c.clear();
    c.type = type;
    c.tsNs = ++ts;
    c.instrument = 0;
    c.account = account;
    c.clOrdId = clOrdId;
    c.side = side;
    c.orderType = orderType;
    c.tif = orderType === OrderType.Market ? TimeInForce.IOC : TimeInForce.GTC;
    c.priceTicks = priceTicks;
    c.sizeLots = sizeLots;
    c.stopPriceTicks = stopPriceTicks;
    ex.apply(c);
  };
  return { risk, hooks, tape, send };
}

describe('RiskHooks', () => {
  it('reserves a market order at the price its walk of the book ends at', () => {
    // Collar 50 bps of 10,000: 10,050 passes, 10,060 does not.
    const v = venue(2, { collarBps: 50 }, 'margin', true);
    v.send(CommandType.Submit, 1, 1, Side.Sell, 10_000, 5);
    v.send(CommandType.Submit, 1, 2, Side.Sell, 10_060, 5);
    // 8 lots take 5 at 10,000 and 3 at 10,060: the walk ends at 10,060 and the collar refuses it.
    v.send(CommandType.Submit, 0, 1, Side.Buy, 0, 8, OrderType.Market);
    expect(v.tape.rejects.get(RejectReason.PriceCollar)).toBe(1);
    expect(v.risk.position(0, 0)).toBe(0);
    // 5 lots end at the best level.
    v.send(CommandType.Submit, 0, 2, Side.Buy, 0, 5, OrderType.Market);
    expect(v.tape.rejects.get(RejectReason.PriceCollar)).toBe(1);
    expect(v.risk.position(0, 0)).toBe(5);
    expect(v.risk.openOrders(0)).toBe(0);
    expect(v.risk.reservedMinor(0)).toBe(0);
  });

  it('leaves nothing booked for an order the book refuses after its check', () => {
    const v = venue(2, { maxOpenOrders: 5 }, 'cash');
    // A market buy into an empty book passes risk (reserved at the reference price) and is refused by the book.
    v.send(CommandType.Submit, 0, 1, Side.Buy, 0, 5, OrderType.Market);
    expect(v.tape.rejects.get(RejectReason.NoLiquidity)).toBe(1);
    expect(v.risk.openOrders(0)).toBe(0);
    expect(v.risk.openLots(0, 0, Side.Buy)).toBe(0);
    expect(v.risk.reservedMinor(0)).toBe(0);
    // The next order is checked and booked as usual.
    v.send(CommandType.Submit, 0, 2, Side.Buy, 9_990, 4);
    expect(v.risk.openOrders(0)).toBe(1);
    expect(v.risk.openLots(0, 0, Side.Buy)).toBe(4);
    expect(v.risk.reservedMinor(0)).toBe(4 * v.risk.cashReservePerLot(0, 9_990));
  });

  describe('a triggered stop-market order whose walk of the book ends beyond its stop price', () => {
    // One lot at 10,000, then ten at 10,500. A trade at 10,000 triggers account 0's buy stop
    // (5 lots, stop 10,000); its walk then ends at 10,500. Cash per lot: notional + the fee
    // reserve (30 centi-bps, rounded up): 10,001 at the stop, 10,501 where the walk ends.
    const run = (settledCash: number) => {
      const v = venue(3, {}, 'cash', true, new Cash(settledCash));
      v.send(CommandType.Submit, 1, 1, Side.Sell, 10_000, 1);
      v.send(CommandType.Submit, 1, 2, Side.Sell, 10_500, 10);
      v.send(CommandType.Submit, 0, 1, Side.Buy, 0, 5, OrderType.StopMarket, 10_000);
      expect(v.risk.reservedMinor(0)).toBe(5 * 10_001);
      // What the stop is reserved at from here: risk drops an order's record when it closes.
      const reservedAt: number[][] = [];
      const modify = v.risk.modifyOrder.bind(v.risk);
      v.risk.modifyOrder = (orderId, priceTicks, leavesLots) => {
        reservedAt.push([orderId, priceTicks, leavesLots, v.risk.reservedMinor(0)]);
        modify(orderId, priceTicks, leavesLots);
        reservedAt.push([orderId, v.risk.reservationPrice(orderId), v.risk.openLotsOf(orderId), v.risk.reservedMinor(0)]);
      };
      v.send(CommandType.Submit, 2, 1, Side.Buy, 10_000, 1);
      return { ...v, reservedAt };
    };

    it('is reserved again where the walk ends, so its fills never spend more than was reserved', () => {
      expect(v0().risk.cashReservePerLot(0, 10_500)).toBe(10_501);
      const v = run(5 * 10_501);
      expect(v.tape.trades.filter((t) => t[0] === 0)).toEqual([[0, 10_500, 5]]);
      expect(v.risk.position(0, 0)).toBe(5);
      // Order 3 (the stop) was reserved at 10,500 when it triggered, and released in full by its fills.
      expect(v.reservedAt).toEqual([
        [3, 10_500, 5, 5 * 10_001],
        [3, 10_500, 5, 5 * 10_501],
      ]);
      expect(v.risk.reservedMinor(0)).toBe(0);
      expect(v.risk.openOrders(0)).toBe(0);
      expect(v.tape.cancels).toEqual([]);
    });

    it('is cancelled (reason risk, the risk reason in flags) when buying power cannot cover the new reservation', () => {
      // Enough for the stop price (50,005), not for where the walk ends (52,505): filled, the
      // five lots would cost 52,500 of the 51,000 the account has.
      const v = run(51_000);
      expect(v.tape.trades.filter((t) => t[0] === 0)).toEqual([]);
      expect(v.tape.cancels).toEqual([[3, CancelReason.Risk, RejectReason.InsufficientBuyingPower]]);
      expect(v.risk.position(0, 0)).toBe(0);
      expect(v.risk.reservedMinor(0)).toBe(0);
      expect(v.risk.openOrders(0)).toBe(0);
      // The book is as it was: the ten lots at 10,500 still rest.
      v.send(CommandType.Submit, 2, 2, Side.Buy, 10_500, 10);
      expect(v.tape.trades.at(-1)).toEqual([2, 10_500, 10]);
    });

    it('keeps its stop-price reservation when the walk ends at or inside the stop price', () => {
      const v = venue(3, {}, 'cash', true, new Cash(5 * 10_001));
      v.send(CommandType.Submit, 1, 1, Side.Sell, 10_000, 6);
      v.send(CommandType.Submit, 0, 1, Side.Buy, 0, 5, OrderType.StopMarket, 10_000);
      v.send(CommandType.Submit, 2, 1, Side.Buy, 10_000, 1);
      expect(v.tape.trades.filter((t) => t[0] === 0)).toEqual([[0, 10_000, 5]]);
      expect(v.risk.reservedMinor(0)).toBe(0);
      expect(v.tape.cancels).toEqual([]);
    });
  });

  it('re-checks a modify that grows an order against the position limit', () => {
    const v = venue(2, { maxLongLots: 10 });
    v.send(CommandType.Submit, 0, 1, Side.Buy, 9_990, 8);
    v.send(CommandType.Modify, 0, 1, Side.Buy, 9_990, 11);
    expect(v.tape.rejects.get(RejectReason.LongPositionLimit)).toBe(1);
    expect(v.risk.openLots(0, 0, Side.Buy)).toBe(8);
    v.send(CommandType.Modify, 0, 1, Side.Buy, 9_991, 10);
    expect(v.risk.openLots(0, 0, Side.Buy)).toBe(10);
    expect(v.tape.rejects.get(RejectReason.LongPositionLimit)).toBe(1);
  });

  it('keeps risk equal to the book over random flow, and releases everything when all is cancelled', () => {
    const seed = 'risk-hooks-1';
    const rnd = seedrandom(seed);
    const A = 6;
    const v = venue(A, { maxLongLots: 300, maxShortLots: 300, maxGrossExposureMinor: 2_500_000, maxNetExposureMinor: 2_000_000 }, 'cash');
    const next = new Array<number>(A).fill(0);
    for (let i = 0; i < 6_000; i++) {
      const a = Math.floor(rnd() * A);
      const r = rnd();
      const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
      if (r < 0.35 && next[a]! > 0) v.send(CommandType.Cancel, a, 1 + Math.floor(rnd() * next[a]!), side, 0, 0);
      else if (r < 0.45 && next[a]! > 0) v.send(CommandType.Modify, a, next[a]! - Math.floor(rnd() * 5), side, MID + Math.floor(rnd() * 21) - 10, 1 + Math.floor(rnd() * 15));
      else if (r > 0.95) v.send(CommandType.Submit, a, ++next[a]!, side, 0, 1 + Math.floor(rnd() * 15), OrderType.Market);
      else v.send(CommandType.Submit, a, ++next[a]!, side, MID + (side === Side.Buy ? -1 : 1) * (Math.floor(rnd() * 15) - 2), 1 + Math.floor(rnd() * 15));
    }
    // The flow must exercise the limits, not just pass.
    expect(v.tape.rejects.get(RejectReason.ShortPositionLimit) ?? 0, seed).toBeGreaterThan(0);
    for (let a = 0; a < A; a++) for (let k = 1; k <= next[a]!; k++) v.send(CommandType.Cancel, a, k, Side.Buy, 0, 0);
    for (let a = 0; a < A; a++) {
      expect(v.risk.position(a, 0), `${seed} account ${a}`).toBe(v.tape.posFromTrades[a]);
      expect(v.risk.openOrders(a), `${seed} account ${a}`).toBe(0);
      expect(v.risk.openLots(a, 0, Side.Buy)).toBe(0);
      expect(v.risk.openLots(a, 0, Side.Sell)).toBe(0);
      expect(v.risk.reservedMinor(a), `${seed} account ${a}`).toBe(0);
    }
    expect(v.risk.position(0, 0)).toBeGreaterThanOrEqual(0);
  });
});
