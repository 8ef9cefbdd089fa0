import { describe, expect, it } from 'vitest';
import { FillLiquidity, MarketTradeKind, QueueModel, ReplayVenue, SIDE_BOTH, SIDE_UNKNOWN, type ReplayListener } from './replay-venue.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, TimeInForce } from './types.js';

/** Every callback as a short string, in order: the tests read like the event stream. */
function recorder(): { l: ReplayListener; log: string[] } {
  const log: string[] = [];
  const l: ReplayListener = {
    onFill: (id, px, sz, leaves, liq, q, ns) => log.push(`fill #${id} ${sz}@${px} leaves ${leaves} ${FillLiquidity[liq]} q${q} ${ns}ns`),
    onRest: (id, side, px, leaves) => log.push(`rest #${id} ${side === Side.Buy ? 'B' : 'S'} ${leaves}@${px}`),
    onCancel: (id, sz, why) => log.push(`cancel #${id} ${sz} ${CancelReason[why]}`),
    onLevel: (side, px, sz) => log.push(`level ${side === Side.Buy ? 'B' : 'S'} ${px}=${sz}`),
    onMarketTrade: (side, px, sz, kind) => log.push(`print ${side === SIDE_UNKNOWN ? '?' : side === Side.Buy ? 'B' : 'S'} ${sz}@${px} ${MarketTradeKind[kind]}`),
  };
  return { l, log };
}

/** A venue with bids 100 x 50, 99 x 30 and asks 101 x 40, 102 x 60 (recorded). */
function venue(model = QueueModel.Pessimistic) {
  const r = recorder();
  const v = new ReplayVenue(r.l, model);
  v.histAdd(Side.Buy, 100, 50);
  v.histAdd(Side.Buy, 99, 30);
  v.histAdd(Side.Sell, 101, 40);
  v.histAdd(Side.Sell, 102, 60);
  r.log.length = 0;
  return { v, log: r.log };
}

const limit = (v: ReplayVenue, id: number, side: Side, px: number, sz: number, tif = TimeInForce.GTC) =>
  v.submit(id, 0, side, OrderType.Limit, px, sz, tif, false);

describe('ReplayVenue: an own order that crosses', () => {
  it('takes displayed liquidity at the displayed prices, best first, and rests the rest', () => {
    const { v, log } = venue();
    expect(limit(v, 1, Side.Buy, 102, 70)).toBe(0);
    expect(log).toEqual(['fill #1 40@101 leaves 30 Taker q0 0ns', 'level S 101=0', 'fill #1 30@102 leaves 0 Taker q0 0ns', 'level S 102=30']);
    expect(v.hist.bestAsk()).toBe(102);
    expect(v.hist.sizeAt(Side.Sell, 102)).toBe(30);
  });

  it('what it took is gone: later recorded events on the level apply to what remains, clamped at zero', () => {
    const { v, log } = venue();
    limit(v, 1, Side.Buy, 101, 25, TimeInForce.IOC);
    expect(v.hist.sizeAt(Side.Sell, 101)).toBe(15);
    log.length = 0;
    // The recorded market cancels 30 of the 40 it showed: only 15 were left.
    v.histReduce(Side.Sell, 101, 30);
    expect(v.hist.sizeAt(Side.Sell, 101)).toBe(0);
    expect(log).toEqual(['level S 101=0']);
    // A recorded execution of the rest finds nothing: the print still happens, the level stays empty.
    v.histExecute(Side.Sell, 101, 10, 77);
    expect(v.hist.sizeAt(Side.Sell, 101)).toBe(0);
    // A new recorded add there counts from zero.
    v.histAdd(Side.Sell, 101, 5);
    expect(v.hist.sizeAt(Side.Sell, 101)).toBe(5);
  });

  it('IOC and market remainders are cancelled; FOK and post-only refuse without touching the book', () => {
    const { v, log } = venue();
    expect(v.submit(1, 0, Side.Buy, OrderType.Market, 0, 200, TimeInForce.IOC, false)).toBe(0);
    expect(log.at(-1)).toBe('cancel #1 100 ImmediateRemainder');
    const w = venue();
    expect(limit(w.v, 2, Side.Sell, 100, 51, TimeInForce.FOK)).toBe(RejectReason.FokCannotFill);
    expect(w.v.submit(3, 0, Side.Sell, OrderType.Limit, 100, 5, TimeInForce.GTC, true)).toBe(RejectReason.PostOnlyWouldCross);
    expect(w.log).toEqual([]);
    expect(limit(w.v, 4, Side.Sell, 99, 80, TimeInForce.FOK)).toBe(0);
    expect(w.v.hist.bestBid()).toBe(NO_PRICE);
  });
});

describe('ReplayVenue: queue position', () => {
  it('starts at the displayed size at its price; executions there eat it first, then fill us', () => {
    const { v, log } = venue();
    v.nowNs = 1_000;
    limit(v, 1, Side.Buy, 100, 20);
    expect(log).toEqual(['rest #1 B 20@100', 'level B 100=70']);
    expect(v.queueAheadOf(1)).toBe(50);
    log.length = 0;
    v.nowNs = 5_000;
    v.histExecute(Side.Buy, 100, 30, 9);
    expect(v.queueAheadOf(1)).toBe(20);
    expect(log).toEqual(['print B 30@100 Visible', 'level B 100=40']);
    log.length = 0;
    v.nowNs = 9_000;
    // 20 still ahead, then 5 reach us.
    v.histExecute(Side.Buy, 100, 25, 10);
    expect(log).toEqual(['print B 25@100 Visible', 'level B 100=20', 'fill #1 5@100 leaves 15 Queue q50 8000ns', 'level B 100=15']);
    expect(v.queueAheadOf(1)).toBe(0);
    log.length = 0;
    v.histExecute(Side.Buy, 100, 40, 11);
    expect(log).toEqual(['print B 40@100 Visible', 'level B 100=15', 'fill #1 15@100 leaves 0 Queue q50 8000ns', 'level B 100=0']);
    expect(v.restingCount()).toBe(0);
  });

  it('pessimistic: cancels come from behind us; only what behind cannot cover comes from ahead', () => {
    const { v } = venue(QueueModel.Pessimistic);
    limit(v, 1, Side.Buy, 100, 10); // ahead 50
    v.histAdd(Side.Buy, 100, 20); // behind us: level 70
    v.histReduce(Side.Buy, 100, 15);
    expect(v.queueAheadOf(1)).toBe(50);
    v.histReduce(Side.Buy, 100, 25); // behind had 5: 20 come from ahead
    expect(v.queueAheadOf(1)).toBe(30);
    expect(v.hist.sizeAt(Side.Buy, 100)).toBe(30);
  });

  it('proportional: cancels reduce the queue ahead by the share of the level ahead of us', () => {
    const { v } = venue(QueueModel.Proportional);
    limit(v, 1, Side.Buy, 100, 10); // ahead 50
    v.histAdd(Side.Buy, 100, 50); // level 100: half ahead
    v.histReduce(Side.Buy, 100, 20);
    expect(v.queueAheadOf(1)).toBe(40);
    v.histReduce(Side.Buy, 100, 7); // 7 x 40 / 80 = 3.5: rounded so we stay back
    expect(v.queueAheadOf(1)).toBe(37);
    v.histReduce(Side.Buy, 100, 1000); // the whole level goes
    expect(v.queueAheadOf(1)).toBe(0);
  });

  it('fills when the market trades through its price, sharing the execution once, best price first', () => {
    const { v, log } = venue();
    v.nowNs = 100;
    limit(v, 1, Side.Sell, 103, 10); // behind the recorded asks
    limit(v, 2, Side.Buy, 100, 10); // ahead 50 at the best bid
    log.length = 0;
    v.nowNs = 400;
    // A seller hits the bid at 99: it went through our bid at 100 for up to 12 lots.
    v.histExecute(Side.Buy, 99, 12, 5);
    expect(log).toEqual(['print B 12@99 Visible', 'level B 99=18', 'fill #2 10@100 leaves 0 Through q50 300ns', 'level B 100=50']);
    log.length = 0;
    // Our ask at 103 is worse than a buy at 102: no fill.
    v.histExecute(Side.Sell, 102, 5, 6);
    expect(log).toEqual(['print S 5@102 Visible', 'level S 102=55']);
  });

  it('hidden executions fill only through, crosses never, prints at the price like executions', () => {
    const { v, log } = venue();
    limit(v, 1, Side.Buy, 100, 10);
    v.histReduce(Side.Buy, 100, 50); // pessimistic: nothing behind, so the queue ahead empties
    expect(v.queueAheadOf(1)).toBe(0);
    log.length = 0;
    v.histTrade(Side.Buy, 100, 5, MarketTradeKind.Hidden, 0);
    v.histTrade(Side.Buy, 99, 5, MarketTradeKind.Cross, -1);
    expect(log).toEqual(['print B 5@100 Hidden', 'print B 5@99 Cross']);
    v.histTrade(Side.Buy, 99, 3, MarketTradeKind.Hidden, 0);
    expect(log.at(-2)).toBe('fill #1 3@100 leaves 7 Through q50 0ns');
    v.histTrade(Side.Buy, 100, 4, MarketTradeKind.Print, 0);
    expect(log.at(-2)).toBe('fill #1 4@100 leaves 3 Queue q50 0ns');
    v.histTrade(SIDE_UNKNOWN, 100, 4, MarketTradeKind.Print, 0);
    expect(v.leavesOf(1)).toBe(3);
  });

  it('two own orders at one price share an execution in arrival order, never counting it twice', () => {
    const { v, log } = venue();
    limit(v, 1, Side.Sell, 101, 10); // ahead 40
    v.histAdd(Side.Sell, 101, 5);
    limit(v, 2, Side.Sell, 101, 10); // ahead 45
    v.histAdd(Side.Sell, 101, 20); // behind both
    log.length = 0;
    // Queue: [40 recorded][#1 10][5 recorded][#2 10][20 recorded]. 55 executed means the
    // taker went past #2's place, but with us there it would have stopped after 40 + 10 + 5.
    v.histExecute(Side.Sell, 101, 55, 3);
    expect(log).toEqual(['print S 55@101 Visible', 'level S 101=30', 'fill #1 10@101 leaves 0 Queue q40 0ns', 'level S 101=20']);
    expect(v.queueAheadOf(2)).toBe(0);
    v.histExecute(Side.Sell, 101, 4, 4);
    expect(log.slice(-2)).toEqual(['fill #2 4@101 leaves 6 Queue q45 0ns', 'level S 101=12']);
  });

  it('a recorded order added across a resting own order trades with it at the own price', () => {
    const { v, log } = venue();
    limit(v, 1, Side.Buy, 100, 10); // nothing crosses it yet; recorded ask at 101
    log.length = 0;
    v.histAdd(Side.Sell, 100, 4); // ahead of us does not matter: the seller meets our bid
    expect(log).toEqual(['fill #1 4@100 leaves 6 Crossed q50 0ns', 'level B 100=56', 'level S 100=0']);
    v.histAdd(Side.Sell, 99, 10);
    expect(v.leavesOf(1)).toBe(0);
    expect(v.hist.sizeAt(Side.Sell, 99)).toBe(4);
  });

  it('modify: size down keeps the queue, a new price re-enters at the back; cancel and clear', () => {
    const { v, log } = venue();
    limit(v, 1, Side.Buy, 100, 10);
    v.histExecute(Side.Buy, 100, 20, 1);
    expect(v.modify(1, 100, 6)).toBe(0);
    expect(v.lastModifyKeptPriority).toBe(true);
    expect(v.queueAheadOf(1)).toBe(30);
    expect(v.modify(1, 99, 6)).toBe(0);
    expect(v.lastModifyKeptPriority).toBe(false);
    expect(v.queueAheadOf(1)).toBe(30);
    expect(v.priceOf(1)).toBe(99);
    log.length = 0;
    expect(v.cancel(1, CancelReason.User)).toBe(true);
    expect(log).toEqual(['cancel #1 6 User', 'level B 99=30']);
    log.length = 0;
    v.histClear(SIDE_BOTH);
    expect(log).toEqual(['level B 100=0', 'level B 99=0', 'level S 101=0', 'level S 102=0']);
    expect(v.hist.bestBid()).toBe(NO_PRICE);
  });

  it('depth merges recorded and own levels', () => {
    const { v } = venue();
    limit(v, 1, Side.Buy, 100, 5);
    limit(v, 2, Side.Buy, 98, 7);
    limit(v, 3, Side.Sell, 104, 1);
    const px = new Float64Array(5);
    const sz = new Float64Array(5);
    const ct = new Float64Array(5);
    expect(v.depth(Side.Buy, 5, px, sz, ct)).toBe(3);
    expect([...px.slice(0, 3)]).toEqual([100, 99, 98]);
    expect([...sz.slice(0, 3)]).toEqual([55, 30, 7]);
    expect(v.depth(Side.Sell, 2, px, sz, ct)).toBe(2);
    expect([...px.slice(0, 2)]).toEqual([101, 102]);
    expect(v.depth(Side.Sell, 5, px, sz, ct)).toBe(3);
    expect(px[2]).toBe(104);
    // The touch read in place is depth's first level, recorded and own, on a side with both,
    // with own orders alone, and empty.
    const touch = (side: Side) => (v.depth(side, 1, px, sz, ct) === 1 ? [px[0], sz[0]] : [NO_PRICE, 0]);
    const both = () => [Side.Buy, Side.Sell].map((side) => expect([v.bestPrice(side), v.bestSize(side)]).toEqual(touch(side)));
    both();
    expect([v.bestPrice(Side.Buy), v.bestSize(Side.Buy)]).toEqual([100, 55]);
    v.histClear(SIDE_BOTH);
    both();
    expect([v.bestPrice(Side.Buy), v.bestSize(Side.Buy)]).toEqual([100, 5]);
    v.cancel(3, CancelReason.User);
    both();
    expect([v.bestPrice(Side.Sell), v.bestSize(Side.Sell)]).toEqual([NO_PRICE, 0]);
  });
});
