import { tableStyle } from './table-style.js';
import Table from 'cli-table3';
import type { Summary } from '../sim/run.js';

/** The strategies' metrics (summary.json extra.strategies) as one table: a row per metric, a column per strategy. */
export function strategyMetricsTable(summary: Summary): string | null {
  const st = summary.extra?.['strategies'] as Record<string, Record<string, string>> | undefined;
  if (st === undefined) return null;
  const names = Object.keys(st);
  const keys: string[] = [];
  for (const n of names) for (const k of Object.keys(st[n]!)) if (!keys.includes(k)) keys.push(k);
  const t = new Table({ style: tableStyle(), head: ['metric', ...names] });
  for (const k of keys) t.push([k, ...names.map((n) => st[n]![k] ?? '')]);
  return t.toString();
}
