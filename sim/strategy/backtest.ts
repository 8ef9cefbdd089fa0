import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackOffice } from '../../engine/back-office.js';
import type { RunComponent, RunContext } from '../run.js';
import type { Scenario } from '../scenario.js';
import { loadStrategyFactory } from './loader.js';
import { computeMetrics, metricsRow, type StrategyMetrics } from './metrics.js';
import { equityTable, fillsTable, metricsTable, ordersTable, writeTable } from './outputs.js';
import { buildReport } from './report.js';
import { StrategyRunner } from './runner.js';

/**
 * The scenario's strategies as run components: one StrategyRunner each, and
 * after them one component that writes the backtest's files (fills, orders,
 * equity, metrics, report.html, strategy.log) and puts each strategy's metrics
 * in summary.json under extra.strategies.
 *
 * With a back office (`venue`), each strategy's account is a venue account: its fees, positions
 * and P&L are the back office's, and its orders pass pre-trade risk like any other.
 */
export async function strategyComponents(sc: Scenario, venue: BackOffice | null = null): Promise<RunComponent[]> {
  if (sc.strategies.length === 0) return [];
  const runners: StrategyRunner[] = [];
  for (const spec of sc.strategies) runners.push(new StrategyRunner(sc, spec, await loadStrategyFactory(spec, sc.file), venue));
  return [...runners, new BacktestOutput(sc, runners)];
}

export class BacktestOutput implements RunComponent {
  readonly name = 'backtest-output';
  metrics: StrategyMetrics[] = [];

  constructor(
    private readonly sc: Scenario,
    readonly runners: readonly StrategyRunner[],
  ) {}

  finish(_run: RunContext, runDir: string, extra: Record<string, unknown>): void {
    const sc = this.sc;
    this.metrics = this.runners.map((r) => computeMetrics(r.spec.name, r.record, r.spec.instruments, sc.closeNs - sc.openNs, r.spec.sampleNs));
    const rows = this.metrics.map(metricsRow);
    writeTable(runDir, 'fills', fillsTable(sc, this.runners));
    writeTable(runDir, 'orders', ordersTable(sc, this.runners));
    writeTable(runDir, 'equity', equityTable(sc, this.runners));
    writeTable(runDir, 'metrics', metricsTable(rows));
    writeFileSync(join(runDir, 'report.html'), buildReport(sc, this.runners, rows));
    const log: string[] = [];
    for (const r of this.runners) {
      log.push(...r.logLines);
      if (r.logDropped > 0) log.push(`[${r.spec.name}] ... ${r.logDropped} more lines not kept`);
    }
    // Always written (empty when nothing was logged), so a script can rely on the file.
    writeFileSync(join(runDir, 'strategy.log'), log.length > 0 ? log.join('\n') + '\n' : '');
    const byName: Record<string, Record<string, string>> = {};
    rows.forEach((row) => {
      const { strategy, ...rest } = row;
      byName[strategy!] = rest;
    });
    extra['strategies'] = byName;
  }
}
