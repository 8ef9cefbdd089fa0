import { tableStyle } from '../table-style.js';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { runSweep, parseParam, parseSeeds, type SweepParam } from '../../sim/sweep.js';
import { loadScenario } from '../../sim/scenario.js';
import { UserError } from '../../sim/errors.js';
import { parseIntOption } from '../options.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpOnSignal } from '../interrupt.js';

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run a grid of strategy params x seeds in parallel worker threads; writes DIR/sweep.csv and prints the best runs')
    .argument('<scenario>', 'scenario file with strategies (see docs/strategies.md)')
    .option('--param <name=v1,v2,...>', 'a strategy param and its values (repeatable); "name" sets it on every strategy, "strategy.name" on one', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--seeds <lo..hi>', "seeds: a range like 1..20 or a list like 1,2,3 (default: the scenario's seed)")
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--metric <name>', 'metric to rank the runs by (a column of sweep.csv; checked before any run)', 'sharpe')
    .option('--ascending', 'rank smallest first (e.g. maxDrawdown)')
    .option('--top <n>', 'best runs to print (default: 10)')
    .option('-o, --out <dir>', 'output directory', 'out/<scenario name>-sweep')
    .action(async (file: string, o: { param: string[]; seeds?: string; workers?: string; metric: string; ascending?: boolean; top?: string; out: string }) => {
      const sc = loadScenario(file);
      if (sc.strategies.length === 0) throw new UserError(`${file}: the scenario has no strategies to sweep`);
      const params: SweepParam[] = o.param.map(parseParam);
      const seeds = o.seeds === undefined ? [sc.seed] : parseSeeds(o.seeds);
      const workers = parseIntOption(o.workers, '--workers') ?? availableParallelism();
      const top = parseIntOption(o.top, '--top') ?? 10;
      if (top < 1) throw new UserError(`--top: expected at least 1, got ${top}`);
      const outDir = o.out === 'out/<scenario name>-sweep' ? `out/${sc.name}-sweep` : o.out;
      const tty = process.stderr.isTTY === true;
      let lastPct = -1;
      // The runs' scratch goes under a directory of this process, removed on Ctrl-C too.
      const workRoot = mkdtempSync(join(tmpdir(), 'exsim-sweep-runs-'));
      const release = cleanUpOnSignal(() => [workRoot]);
      const r = await runSweep({
        workRoot,
        scenarioFile: file,
        params,
        seeds,
        workers,
        metric: o.metric,
        ascending: o.ascending === true,
        outDir,
        progress: (done, total) => {
          const width = 30;
          const filled = Math.round((done / total) * width);
          const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} runs`;
          if (tty) process.stderr.write(`\r${bar}${done === total ? '\n' : ''}`);
          else {
            const pct = Math.floor((done / total) * 10);
            if (pct !== lastPct) process.stderr.write(`${bar}\n`);
            lastPct = pct;
          }
        },
      }).finally(() => {
        release();
        rmSync(workRoot, { recursive: true, force: true });
      });
      const cols = r.table.columns;
      const show = ['run', 'seed', ...params.map((p) => p.name), o.metric, ...['pnl', 'sharpe', 'maxDrawdown', 'fills'].filter((c) => c !== o.metric && cols.includes(c))];
      const idx = show.map((c) => cols.indexOf(c));
      const t = new Table({ style: tableStyle(), head: show });
      for (const row of r.ranked.slice(0, top)) t.push(idx.map((k) => String(row[k] ?? '')));
      process.stdout.write(`${r.table.rows.length} runs -> ${r.csvPath}\nbest ${Math.min(top, r.ranked.length)} by ${o.metric}${o.ascending ? ' (ascending)' : ''}:\n${t.toString()}\n`);
    });
}
