import type { StrategyContext, StrategyFactory } from '../../sim/strategy/api.js';

/**
 * Logs every handler call with the virtual time and the venue time of what it was told, for
 * the latency and lifecycle tests. Through ctx.log (strategy.log), not module state: the run
 * loads this module through tsx, a different instance from one a test would import.
 * Line: `<time> [name] <handler> now=<ns> venue=<ns> <detail>`.
 */
const create: StrategyFactory = (params) => {
  let sent = false;
  const note = (ctx: StrategyContext, handler: string, venueTsNs: number, detail: string) => ctx.log(`${handler} now=${ctx.nowNs()} venue=${venueTsNs} ${detail}`);
  return {
    onStart(ctx) {
      note(ctx, 'onStart', -1, '');
    },
    onQuote(ctx, q) {
      note(ctx, 'onQuote', q.venueTsNs, `${q.bidTicks}/${q.askTicks}`);
      if (!sent && q.askTicks !== null) {
        sent = true;
        // A marketable buy: it fills at once against the ask.
        ctx.submit({ instrument: 0, side: 'buy', priceTicks: q.askTicks, sizeLots: Number(params['size'] ?? 1), tif: 'IOC', tag: 'probe' });
      }
    },
    onOrderUpdate(ctx, u) {
      note(ctx, 'onOrderUpdate', u.venueTsNs, `${u.kind} ${u.order.status}`);
    },
    onFill(ctx, f) {
      note(ctx, 'onFill', f.venueTsNs, `${f.side} ${f.sizeLots}@${f.priceTicks} ${f.liquidity} pos=${f.positionLots} fee=${f.feeMinor}`);
    },
  };
};
export default create;
