import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.js';
import type { Strategy, StrategyFactory } from './api.js';
import type { StrategySpec } from './spec.js';

/**
 * Loads a strategy module. TypeScript runs without a build step: tsx's ESM API
 * compiles it on import (tsImport scopes tsx's loader to this import, so the
 * rest of the process is untouched). Works from the compiled CLI and under
 * vitest alike; a .js module is imported as is.
 */
export async function loadStrategyFactory(spec: StrategySpec, scenarioFile: string): Promise<StrategyFactory> {
  const where = `${scenarioFile}: ${spec.path}.module`;
  let mod: Record<string, unknown>;
  try {
    const url = pathToFileURL(spec.moduleFile).href;
    if (/\.[cm]?ts$/.test(spec.moduleFile)) {
      // tsx inlines source maps; with them on, a strategy's stack trace names its own lines.
      process.setSourceMapsEnabled(true);
      const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (s: string, parent: string) => Promise<Record<string, unknown>> };
      mod = await tsImport(url, import.meta.url);
    } else {
      mod = (await import(url)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new UserError(`${where}: cannot load ${JSON.stringify(spec.module)}: ${(e as Error)?.message ?? String(e)}`);
  }
  // tsImport of an ESM file may wrap the namespace once more under `default`.
  let f = mod['default'];
  if (f !== null && typeof f === 'object' && typeof (f as Record<string, unknown>)['default'] === 'function') f = (f as Record<string, unknown>)['default'];
  if (typeof f !== 'function') {
    throw new UserError(`${where}: ${JSON.stringify(spec.module)} must export a factory as its default export (export default (params) => ({ onQuote(ctx, q) {...} })); see docs/strategies.md`);
  }
  return f as StrategyFactory;
}

export function checkStrategyObject(s: unknown, spec: StrategySpec, scenarioFile: string): Strategy {
  if (s === null || typeof s !== 'object') {
    throw new UserError(`${scenarioFile}: ${spec.path}.module: the factory of ${JSON.stringify(spec.module)} returned ${s === null ? 'null' : typeof s}, expected an object with handlers (onQuote, onFill, ...)`);
  }
  const known = ['onStart', 'onQuote', 'onTrade', 'onOrderUpdate', 'onFill', 'onTimer', 'onEnd'];
  for (const k of known) {
    const h = (s as Record<string, unknown>)[k];
    if (h !== undefined && typeof h !== 'function') throw new UserError(`${scenarioFile}: ${spec.path}.module: ${k} of ${JSON.stringify(spec.module)} is ${typeof h}, expected a function`);
  }
  return s as Strategy;
}
