/**
 * A simple momentum taker: every `checkSec` it compares the mid it sees with
 * the mid `lookbackSec` earlier; a move of at least `thresholdTicks` sends a
 * market order in its direction (buy on a rise), within `maxPosition`, then it
 * waits `cooldownSec` before trading again.
 *
 * params: lookbackSec (10), checkSec (1), thresholdTicks (3), sizeLots (5),
 *         maxPosition (20), cooldownSec (5), instrument (first of the scenario).
 */
import type { StrategyFactory } from '../sim/strategy/api.js';

const create: StrategyFactory = (params) => {
  const lookback = Math.max(1, Math.round(Number(params['lookbackSec'] ?? 10) / Number(params['checkSec'] ?? 1)));
  const checkNs = Math.round(Number(params['checkSec'] ?? 1) * 1e9);
  const threshold = Number(params['thresholdTicks'] ?? 3);
  const size = Number(params['sizeLots'] ?? 5);
  const maxPos = Number(params['maxPosition'] ?? 20);
  const cooldownNs = Math.round(Number(params['cooldownSec'] ?? 5) * 1e9);
  const mids: number[] = [];
  let quietUntil = 0;

  return {
    onStart(ctx) {
      ctx.setTimer({ afterNs: checkNs }, 'check');
    },
    onTimer(ctx, _tag) {
      ctx.setTimer({ afterNs: checkNs }, 'check');
      const instrument = ctx.instrument((params['instrument'] as string | undefined) ?? 0).index;
      const q = ctx.top(instrument);
      if (q === null || q.bidTicks === null || q.askTicks === null) return;
      mids.push((q.bidTicks + q.askTicks) / 2);
      if (mids.length > lookback + 1) mids.shift();
      if (mids.length <= lookback || ctx.nowNs() < quietUntil) return;
      const move = mids[mids.length - 1]! - mids[0]!;
      const pos = ctx.position(instrument);
      if (move >= threshold && pos + size <= maxPos) {
        ctx.submit({ instrument, side: 'buy', type: 'market', sizeLots: size, tag: `up ${move}` });
        quietUntil = ctx.nowNs() + cooldownNs;
      } else if (move <= -threshold && pos - size >= -maxPos) {
        ctx.submit({ instrument, side: 'sell', type: 'market', sizeLots: size, tag: `down ${-move}` });
        quietUntil = ctx.nowNs() + cooldownNs;
      }
    },
  };
};

export default create;
