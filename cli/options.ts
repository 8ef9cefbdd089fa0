import { UserError } from '../sim/errors.js';
import type { Threading } from '../sim/run.js';

export function parseSeed(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UserError(`--seed: expected a non-negative integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

export function parseThreading(s: string, flag: string): Threading {
  if (s !== 'worker' && s !== 'inline') throw new UserError(`${flag}: expected worker or inline, got ${JSON.stringify(s)}`);
  return s;
}

export function parseIntOption(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UserError(`${flag}: expected an integer, got ${JSON.stringify(s)}`);
  return Number(s);
}
