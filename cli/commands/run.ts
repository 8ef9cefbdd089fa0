import type { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../../sim/scenario.js';
import { partialDirOf, runScenario } from '../../sim/run.js';
import { cleanUpOnSignal } from '../interrupt.js';
import { parseSeed, parseThreading } from '../options.js';
import { printRunResult, progressPrinter } from '../print.js';
import { LOBSTER_RECORD_LEVELS_DEFAULT } from '../../sim/replay/lobster-record.js';
import { UserError } from '../../sim/errors.js';

function parseLevels(s: string): number {
  if (!/^[0-9]{1,4}$/.test(s) || Number(s) < 1 || Number(s) > 1000) throw new UserError(`--record-levels must be a whole number from 1 to 1000, got ${JSON.stringify(s)}`);
  return Number(s);
}
import { strategyMetricsTable } from '../backtest-print.js';

const CHECK_INVARIANTS_EVERY_DEFAULT = 10_000;

function parsePositive(s: string, flag: string): number {
  if (!/^[0-9]{1,9}$/.test(s) || Number(s) < 1) throw new UserError(`${flag} must be a whole number of inputs from 1, got ${JSON.stringify(s)}`);
  return Number(s);
}

function parseJournal(s: string): 'off' | 'wal' {
  if (s === 'off' || s === 'wal') return s;
  throw new UserError(`--audit-journal: expected off or wal, got ${JSON.stringify(s)}`);
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a scenario into DIR: events.ndjson, summary.json, audit.sqlite, and by scenario the accounts, payments and strategy files (run --help lists every file)')
    .addHelpText(
      'after',
      `
Files a run may write into DIR:
  always            events.ndjson, summary.json, scenario.json, book.json (the final book: L2 and
                    every resting order, L3); audit.sqlite (not with --no-audit)
  replay feeds      deadletter-<SYMBOL>.csv when rows could not be parsed
  accounts          positions.json, pnl.json, ledger.sqlite           (read by: exsim report positions|pnl)
  payments          payments.sqlite, recon.csv, recon-classes.csv, recon.json  (read by: exsim report payments|recon)
  strategies        fills, orders, equity and metrics as .csv and .ndjson, report.html, strategy.log (docs/strategies.md)
  --record-lobster  <SYMBOL>_message.csv, <SYMBOL>_orderbook.csv`,
    )
    .argument('<scenario>', 'scenario file (JSON, see docs/scenarios.md)')
    .option('-o, --out <dir>', 'output directory', 'out/<scenario name>')
    .option('--seed <n>', "override the scenario's seed (non-negative integer)")
    .option('--feed-thread <mode>', 'run the feed in a worker thread or inline: worker|inline|auto (auto: a worker when more than 2 cores)', 'auto')
    .option('--output-thread <mode>', 'write events and audit in a worker thread or inline: worker|inline|auto (auto: a worker when more than 2 cores)', 'worker')
    .option('--no-audit', 'do not write audit.sqlite')
    .option('--audit-journal <mode>', "audit.sqlite's journal while the run writes it: off (fastest) or wal (other processes can read it meanwhile); the finished file is the same", 'off')
    .option('--check-invariants [n]', "check the engine's invariants as it runs: the books' full consistency check (brute-force BBO, order pool, levels) every n inputs (default 10000) and at the end, quantity conservation and one terminal state per order from the event stream; a broken one fails the run (exit 70, the invariant named). Same output bytes")
    .option('--json', 'print the summary as JSON instead of a table')
    .option('--record-lobster [dir]', 'also write <SYMBOL>_message.csv and <SYMBOL>_orderbook.csv (LOBSTER format) per order-book instrument, into dir (default: the output directory)')
    .option('--record-levels <n>', 'levels per recorded LOBSTER order book row', String(LOBSTER_RECORD_LEVELS_DEFAULT))
    .action(async (file: string, o: { out: string; seed?: string; feedThread: string; outputThread: string; audit: boolean; auditJournal: string; checkInvariants?: string | boolean; json?: boolean; recordLobster?: string | boolean; recordLevels: string }) => {
      const scenario = loadScenario(file, { seed: parseSeed(o.seed) });
      const outDir = o.out === 'out/<scenario name>' ? `out/${scenario.name}` : o.out;
      const wallMs = () => performance.now();
      const checkInvariantsEvery = o.checkInvariants === undefined ? 0 : o.checkInvariants === true ? CHECK_INVARIANTS_EVERY_DEFAULT : parsePositive(String(o.checkInvariants), '--check-invariants');
      const progress = o.json ? undefined : progressPrinter(wallMs);
      const release = cleanUpOnSignal(() => [partialDirOf(outDir)]);
      const result = await runScenario({
        scenario,
        outDir,
        feedThread: parseThreading(o.feedThread, '--feed-thread'),
        outputThread: parseThreading(o.outputThread, '--output-thread'),
        audit: o.audit,
        auditJournal: parseJournal(o.auditJournal),
        checkInvariantsEvery,
        wallMs,
        ...(progress ? { progress } : {}),
        ...(o.recordLobster === undefined
          ? {}
          : { recordLobster: { levels: parseLevels(o.recordLevels), ...(typeof o.recordLobster === 'string' ? { dir: o.recordLobster } : {}) } }),
      }).finally(() => {
        release();
        progress?.end();
      });
      printRunResult(scenario, outDir, result, o.json === true);
      const metrics = o.json ? null : strategyMetricsTable(result.summary);
      if (metrics) process.stdout.write(`strategies (fills.csv, orders.csv, equity.csv, metrics.csv and report.html in ${outDir}):\n${metrics}\n`);
    });
}
