import type { StrategyFactory } from '../../sim/strategy/api.js';

/**
 * For the accounts tests: one order too large for the account's maxOrderLots (pre-trade risk
 * rejects it), then a marketable buy and, once it filled, a passive sell. Logs every update
 * and fill, and at the end its position and P&L as the context reports them.
 */
const create: StrategyFactory = (params) => {
  const big = Number(params['bigLots'] ?? 50);
  let sent = false;
  let sold = false;
  return {
    onQuote(ctx, q) {
      if (sent || q.askTicks === null || q.bidTicks === null) return;
      sent = true;
      ctx.submit({ instrument: 0, side: 'buy', priceTicks: q.bidTicks, sizeLots: big, tag: 'too-big' });
      ctx.submit({ instrument: 0, side: 'buy', priceTicks: q.askTicks, sizeLots: 3, tif: 'IOC', tag: 'take' });
    },
    onOrderUpdate(ctx, u) {
      ctx.log('update', u.kind, u.order.tag, u.order.status, u.reason);
    },
    onFill(ctx, f) {
      ctx.log('fill', f.side, f.sizeLots, f.priceTicks, f.liquidity, 'fee', f.feeMinor, 'pos', f.positionLots);
      if (!sold && f.order.tag === 'take' && f.order.leavesLots === 0) {
        sold = true;
        const q = ctx.top(0)!;
        ctx.submit({ instrument: 0, side: 'sell', priceTicks: (q.askTicks ?? f.priceTicks + 1) + 1, sizeLots: 2, postOnly: true, tag: 'rest' });
      }
    },
    onEnd(ctx) {
      const p = ctx.pnl();
      ctx.log('end', 'pos', ctx.position(0), 'realized', p.realizedMinor, 'fees', p.feesMinor);
    },
  };
};
export default create;
