import type { StrategyFactory } from '../../sim/strategy/api.js';

/** Does nothing and logs nothing: strategy.log must still be written, empty. */
const create: StrategyFactory = () => ({});
export default create;
