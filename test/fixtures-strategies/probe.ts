import type { StrategyFactory } from '../../sim/strategy/api.js';

/**
 * Records what it sees, for the latency and lifecycle tests: every handler
 * call with the virtual time and the venue time of what it was told.
 */
export const seen: { runs: { handler: string; nowNs: number; venueTsNs: number; detail: string }[][] } = { runs: [] };

const create: StrategyFactory = (params) => {
  const log: { handler: string; nowNs: number; venueTsNs: number; detail: string }[] = [];
  seen.runs.push(log);
  let sent = false;
  return {
    onStart(ctx) {
      log.push({ handler: 'onStart', nowNs: ctx.nowNs(), venueTsNs: -1, detail: '' });
    },
    onQuote(ctx, q) {
      log.push({ handler: 'onQuote', nowNs: ctx.nowNs(), venueTsNs: q.venueTsNs, detail: `${q.bidTicks}/${q.askTicks}` });
      if (!sent && q.askTicks !== null) {
        sent = true;
        // A marketable buy: it fills at once against the ask.
        ctx.submit({ instrument: 0, side: 'buy', priceTicks: q.askTicks, sizeLots: Number(params['size'] ?? 1), tif: 'IOC', tag: 'probe' });
      }
    },
    onOrderUpdate(ctx, u) {
      log.push({ handler: 'onOrderUpdate', nowNs: ctx.nowNs(), venueTsNs: u.venueTsNs, detail: `${u.kind} ${u.order.status}` });
    },
    onFill(ctx, f) {
      log.push({ handler: 'onFill', nowNs: ctx.nowNs(), venueTsNs: f.venueTsNs, detail: `${f.side} ${f.sizeLots}@${f.priceTicks} ${f.liquidity} pos=${f.positionLots} fee=${f.feeMinor}` });
    },
  };
};
export default create;
