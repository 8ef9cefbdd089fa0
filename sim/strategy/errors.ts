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
    const what = err ? `${err.name}: ${err.message}` : describe(failure);
    const frame = err?.stack?.split('\n').find((l) => l.includes(moduleFile));
    // tsx tags the module URL with its namespace; the reader wants the file and line.
    const loc = frame ? /(?:file:\/\/)?([^\s()]+?)(?:\?[^:\s()]*)?:(\d+):(\d+)\)?\s*$/.exec(frame.trim()) : null;
    const at = loc ? ` (at ${loc[1]}:${loc[2]}:${loc[3]})` : '';
    super(`strategy ${JSON.stringify(strategy)} (${moduleRef}) failed in ${handler} at virtual time ${formatNs(virtualNs, sessionDate)}: ${what}${at}`);
  }
}

/** A thrown non-Error: `{code: 42}` reads better as JSON than as "[object Object]". */
function describe(x: unknown): string {
  if (typeof x !== 'object' || x === null) return String(x);
  try {
    const s = JSON.stringify(x);
    if (s !== undefined && s !== '{}') return s;
  } catch {
    // A cycle or a BigInt: fall back to its tag.
  }
  return Object.prototype.toString.call(x);
}
