import type { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../../sim/scenario.js';
import { runScenario } from '../../sim/run.js';
import { parseSeed, parseThreading } from '../options.js';
import { printRunResult, progressPrinter } from '../print.js';
import { strategyMetricsTable } from '../backtest-print.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a scenario: writes DIR/events.ndjson, DIR/summary.json and DIR/audit.sqlite')
    .argument('<scenario>', 'scenario file (JSON, see docs/scenarios.md)')
    .option('-o, --out <dir>', 'output directory', 'out/<scenario name>')
    .option('--seed <n>', "override the scenario's seed (non-negative integer)")
    .option('--feed-thread <mode>', 'run the feed in a worker thread or inline: worker|inline', 'worker')
    .option('--output-thread <mode>', 'write events and audit in a worker thread or inline: worker|inline', 'worker')
    .option('--no-audit', 'do not write audit.sqlite')
    .option('--json', 'print the summary as JSON instead of a table')
    .action(async (file: string, o: { out: string; seed?: string; feedThread: string; outputThread: string; audit: boolean; json?: boolean }) => {
      const scenario = loadScenario(file, { seed: parseSeed(o.seed) });
      const outDir = o.out === 'out/<scenario name>' ? `out/${scenario.name}` : o.out;
      const wallMs = () => performance.now();
      const result = await runScenario({
        scenario,
        outDir,
        feedThread: parseThreading(o.feedThread, '--feed-thread'),
        outputThread: parseThreading(o.outputThread, '--output-thread'),
        audit: o.audit,
        wallMs,
        progress: o.json ? undefined : progressPrinter(wallMs),
      });
      printRunResult(scenario, outDir, result, o.json === true);
      const metrics = o.json ? null : strategyMetricsTable(result.summary);
      if (metrics) process.stdout.write(`strategies (fills.csv, orders.csv, equity.csv, metrics.csv and report.html in ${outDir}):\n${metrics}\n`);
    });
}
