/**
 * TWAP execution of one parent order: after `startAfterSec`, the parent is
 * declared (its arrival price is the mid seen then: implementation shortfall
 * is measured against it) and cut into `slices` equal child orders, one every
 * `intervalSec`. Each child is a marketable limit IOC at the far touch plus
 * `limitTicks`; what it does not fill rolls into the next slice. The last
 * slice sends everything left.
 *
 * params: side ("buy"), totalLots (500), slices (10), intervalSec (30),
 *         startAfterSec (5), limitTicks (2), instrument (first of the scenario).
 */
import type { StrategyFactory } from '../sim/strategy/api.js';

const create: StrategyFactory = (params) => {
  const side = (params['side'] as 'buy' | 'sell' | undefined) ?? 'buy';
  const total = Number(params['totalLots'] ?? 500);
  const slices = Number(params['slices'] ?? 10);
  const intervalNs = Math.round(Number(params['intervalSec'] ?? 30) * 1e9);
  const startNs = Math.round(Number(params['startAfterSec'] ?? 5) * 1e9);
  const limitTicks = Number(params['limitTicks'] ?? 2);
  let sent = 0;
  let filled = 0;
  let slice = 0;

  return {
    onStart(ctx) {
      ctx.setTimer({ afterNs: startNs }, 'begin');
    },
    onTimer(ctx, tag) {
      const instrument = ctx.instrument((params['instrument'] as string | undefined) ?? 0).index;
      if (tag === 'begin') {
        ctx.beginParentOrder({ instrument, side, sizeLots: total });
        ctx.log('parent', { side, total, slices });
      }
      const q = ctx.top(instrument);
      const remaining = total - filled;
      if (remaining <= 0 || slice >= slices) return;
      const left = slices - slice;
      const child = left === 1 ? remaining : Math.min(remaining, Math.ceil(remaining / left));
      slice++;
      const touch = side === 'buy' ? q?.askTicks : q?.bidTicks;
      if (touch != null && child > 0) {
        const price = side === 'buy' ? touch + limitTicks : touch - limitTicks;
        ctx.submit({ instrument, side, priceTicks: price, sizeLots: child, tif: 'IOC', tag: `slice-${slice}` });
        sent += child;
      }
      if (slice < slices) ctx.setTimer({ afterNs: intervalNs }, 'slice');
    },
    onFill(_ctx, f) {
      filled += f.sizeLots;
    },
    onEnd(ctx) {
      ctx.log('done', { sent, filled, total });
    },
  };
};

export default create;
