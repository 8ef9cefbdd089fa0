import type { StrategyFactory } from '../../sim/strategy/api.js';

/** For the replay tests: one marketable buy on the first quote; logs its fills, and counts the tape it sees. */
const create: StrategyFactory = () => {
  let sent = false;
  let trades = 0;
  let lots = 0;
  return {
    onQuote(ctx, q) {
      if (sent || q.askTicks === null) return;
      sent = true;
      ctx.submit({ instrument: 0, side: 'buy', priceTicks: q.askTicks, sizeLots: 10, tif: 'IOC', tag: 'take' });
    },
    onTrade(ctx, t) {
      trades++;
      lots += t.sizeLots;
      if (trades === 1) ctx.log('first trade', t.priceTicks, t.sizeLots, t.aggressor, t.venueTsNs);
    },
    onFill(ctx, f) {
      ctx.log('fill', f.side, f.sizeLots, f.priceTicks, f.liquidity, f.replayLiquidity, f.queueAtEntryLots, f.queueNs, 'pos', f.positionLots);
    },
    onEnd(ctx) {
      ctx.log('tape', trades, lots);
    },
  };
};
export default create;
