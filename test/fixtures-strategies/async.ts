import type { Strategy, StrategyContext, StrategyFactory } from '../../sim/strategy/api.js';

/**
 * Async handlers, which the runner refuses (docs/strategies.md, "Handlers must be synchronous"):
 * on its third quote, mode "throw" is an async onQuote that throws, "await" one that awaits
 * before it submits, "promise" a plain onQuote that returns a promise, "object" a sync throw of a non-Error; "factory" is an async factory.
 */
const create: StrategyFactory = (params) => {
  const mode = String(params['mode']);
  let n = 0;
  const s: Strategy = {
    // Typed as returning void, like every handler: TypeScript accepts an async one, so the runner must check.
    onQuote(ctx: StrategyContext): void {
      if (++n !== 3) return;
      if (mode === 'throw') {
        return (async () => {
          throw new Error('async boom');
        })() as unknown as void;
      }
      if (mode === 'object') throw { code: 42 };
      if (mode === 'await') {
        return (async () => {
          await null;
          ctx.submit({ instrument: 0, side: 'buy', priceTicks: 1, sizeLots: 1 });
        })() as unknown as void;
      }
      return Promise.resolve(42) as unknown as void;
    },
  };
  return mode === 'factory' ? (Promise.resolve(s) as unknown as Strategy) : s;
};
export default create;
