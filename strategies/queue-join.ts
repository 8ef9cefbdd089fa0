/**
 * Joins the queue at the touch: a post-only bid at the best bid and a post-only ask at the
 * best ask, each re-joined at the touch once it has filled, and pulled when the touch has
 * moved more than `requoteTicks` away from it (the queue there is not worth keeping).
 * Written for replayed markets, where an own order joins the back of the displayed queue and
 * fills only once the recorded executions have eaten what was ahead of it (docs/replay.md):
 * each fill is logged with how it filled, the lots ahead when it joined, and its time in queue.
 *
 * params: sizeLots (100), maxPosition (300), requoteTicks (3), instrument (first of the scenario).
 */
import type { Fill, OrderView, Quote, StrategyContext, StrategyFactory } from '../sim/strategy/api.js';

const create: StrategyFactory = (params) => {
  const size = Number(params['sizeLots'] ?? 100);
  const maxPos = Number(params['maxPosition'] ?? 300);
  const requote = Number(params['requoteTicks'] ?? 3);
  const ids = { buy: 0, sell: 0 };

  const live = (ctx: StrategyContext, id: number): OrderView | null => {
    if (id === 0) return null;
    const o = ctx.order(id)!;
    return o.status === 'pending' || o.status === 'accepted' || o.status === 'open' ? o : null;
  };

  const side = (ctx: StrategyContext, instrument: number, s: 'buy' | 'sell', touch: number | null): void => {
    const o = live(ctx, ids[s]);
    const pos = ctx.position(instrument);
    const allowed = s === 'buy' ? pos + size <= maxPos : pos - size >= -maxPos;
    if (o === null) {
      if (touch !== null && allowed) ids[s] = ctx.submit({ instrument, side: s, priceTicks: touch, sizeLots: size, postOnly: true, tif: 'DAY', tag: 'join' });
      return;
    }
    if (o.pendingChange || o.status === 'pending') return;
    if (touch === null || Math.abs(o.priceTicks - touch) > requote || !allowed) ctx.cancel(o.clOrdId);
  };

  return {
    onQuote(ctx, q: Quote) {
      const instrument = ctx.instrument((params['instrument'] as string | undefined) ?? 0).index;
      if (q.instrument !== instrument) return;
      side(ctx, instrument, 'buy', q.bidTicks);
      side(ctx, instrument, 'sell', q.askTicks);
    },
    onFill(ctx, f: Fill) {
      ctx.log('fill', f.side, f.sizeLots, '@', f.priceTicks, f.replayLiquidity ?? f.liquidity, 'ahead at entry', f.queueAtEntryLots, 'queue ms', f.queueNs === null ? null : f.queueNs / 1e6, 'pos', f.positionLots);
    },
    onOrderUpdate(ctx, u) {
      if (u.kind === 'rejected') ctx.log('rejected', u.order.side, u.order.priceTicks, u.reason);
    },
    onEnd(ctx) {
      const p = ctx.pnl();
      ctx.log('end', { position: ctx.position(0), pnlMinor: p.totalMinor });
    },
  };
};

export default create;
