import { UserError } from '../errors.js';
import { formatNs } from '../scenario-time.js';

/**
 * A strategy's handler threw. The run stops (its output is discarded, like any
 * failed run) and the message says which strategy, which handler, at what
 * virtual time, and where in the strategy's file.
 */
export class StrategyError extends UserError {
  override name = 'StrategyError';
  constructor(
    readonly strategy: string,
    readonly handler: string,
    readonly virtualNs: number,
    readonly failure: unknown,
    moduleRef: string,
    moduleFile: string,
    sessionDate: string,
  ) {
    const err = failure instanceof Error ? failure : null;
    const what = err ? `${err.name}: ${err.message}` : String(failure);
    const frame = err?.stack?.split('\n').find((l) => l.includes(moduleFile));
    const at = frame ? ` (${frame.trim().replace(/^at\s+/, '')})` : '';
    super(`strategy ${JSON.stringify(strategy)} (${moduleRef}) failed in ${handler} at virtual time ${formatNs(virtualNs, sessionDate)}: ${what}${at}`);
  }
}
