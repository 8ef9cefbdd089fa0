import type { StrategyFactory } from '../../sim/strategy/api.js';

/** Throws on its third quote: the run must stop with the strategy's name, handler and virtual time. */
const create: StrategyFactory = () => {
  let n = 0;
  return {
    onQuote() {
      if (++n === 3) throw new Error('boom on purpose');
    },
  };
};
export default create;
