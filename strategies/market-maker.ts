/**
 * A passive market maker with inventory skew: one post-only bid and one
 * post-only ask around a fair price, both shifted against the position so that a
 * long book quotes lower (selling is likelier, buying less so), and a side is
 * pulled when the position reaches its limit. Quotes move only when their
 * price would change, so a quiet book costs nothing.
 *
 * The fair price is the last trade (the mid before the first one), not the
 * mid: once the maker's own quotes are the touch, a mid-based fair price
 * would follow its own skewed quotes and run away.
 *
 * params: spreadTicks (half spread, default 2), sizeLots (5), maxPosition (50),
 *         skewTicksPerLot (0.1), instrument (first of the scenario).
 */
import type { OrderView, Quote, StrategyContext, StrategyFactory } from '../sim/strategy/api.js';

const create: StrategyFactory = (params) => {
  const spread = Number(params['spreadTicks'] ?? 2);
  const size = Number(params['sizeLots'] ?? 5);
  const maxPos = Number(params['maxPosition'] ?? 50);
  const skew = Number(params['skewTicksPerLot'] ?? 0.1);
  let bidId = 0;
  let askId = 0;
  let rejects = 0;

  const live = (ctx: StrategyContext, id: number): OrderView | null => {
    if (id === 0) return null;
    const o = ctx.order(id)!;
    return o.status === 'pending' || o.status === 'accepted' || o.status === 'open' ? o : null;
  };

  /** Keep one order on a side at `price` (0 = none there). Returns the order's clOrdId. */
  const quote = (ctx: StrategyContext, instrument: number, side: 'buy' | 'sell', id: number, price: number): number => {
    const o = live(ctx, id);
    if (price <= 0) {
      if (o && !o.pendingChange && o.status !== 'pending') ctx.cancel(o.clOrdId);
      return o ? id : 0;
    }
    if (o === null) return ctx.submit({ instrument, side, priceTicks: price, sizeLots: size, postOnly: true, tag: 'quote' });
    // Wait for the venue's answer before changing an order again.
    if (o.pendingChange || o.status === 'pending') return id;
    if (o.priceTicks !== price) ctx.modify(o.clOrdId, { priceTicks: price, sizeLots: size });
    return id;
  };

  return {
    onStart(ctx) {
      ctx.log('market maker', { spread, size, maxPos, skew });
    },
    onQuote(ctx, q: Quote) {
      const instrument = ctx.instrument((params['instrument'] as string | undefined) ?? 0).index;
      if (q.instrument !== instrument || q.bidTicks === null || q.askTicks === null) return;
      const pos = ctx.position(instrument);
      const last = ctx.lastTrade(instrument);
      const fair = (last !== null ? last.priceTicks : (q.bidTicks + q.askTicks) / 2) - skew * pos;
      // Post-only: never at or through the opposite touch.
      let bid = Math.min(Math.floor(fair - spread), q.askTicks - 1);
      let ask = Math.max(Math.ceil(fair + spread), q.bidTicks + 1);
      if (pos >= maxPos) bid = 0;
      if (pos <= -maxPos) ask = 0;
      bidId = quote(ctx, instrument, 'buy', bidId, bid);
      askId = quote(ctx, instrument, 'sell', askId, ask);
    },
    onOrderUpdate(ctx, u) {
      // Post-only quotes that would cross, and with accounts pre-trade risk (a position limit, say):
      // the next quote simply tries again, so only the first few are worth a line.
      if (u.kind === 'rejected' && ++rejects <= 20) ctx.log('rejected', u.order.side, u.order.priceTicks, u.reason);
    },
    onEnd(ctx) {
      const p = ctx.pnl();
      ctx.log('end', { position: ctx.position(0), pnlMinor: p.totalMinor, feesMinor: p.feesMinor, rejects });
    },
  };
};

export default create;
