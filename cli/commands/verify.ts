import type { Command } from 'commander';
import chalk from 'chalk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanUpOnSignal } from '../interrupt.js';
import { loadScenario } from '../../sim/scenario.js';
import { verifyGolden } from '../../sim/verify.js';
import { parseSeed, parseThreading } from '../options.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('rerun a scenario and compare its output byte for byte with golden files (exit 0 identical, 1 different)')
    .argument('<scenario>', 'scenario file')
    .requiredOption('-g, --golden <dir>', 'golden directory (e.g. fixtures/golden/<name>)')
    .option('--update', 'rewrite the golden files and say what changed')
    .option('--seed <n>', "override the scenario's seed")
    .option('--feed-thread <mode>', 'run the feed in a worker thread or inline: worker|inline|auto', 'auto')
    .action(async (file: string, o: { golden: string; update?: boolean; seed?: string; feedThread: string }) => {
      const scenario = loadScenario(file, { seed: parseSeed(o.seed) });
      // The rerun's scratch goes under a directory of this process, removed on Ctrl-C too.
      const workRoot = mkdtempSync(join(tmpdir(), 'exsim-verify-run-'));
      const release = cleanUpOnSignal(() => [workRoot]);
      const r = await verifyGolden(scenario, o.golden, {
        update: o.update === true,
        feedThread: parseThreading(o.feedThread, '--feed-thread'),
        wallMs: () => performance.now(),
        workRoot,
      }).finally(() => {
        release();
        rmSync(workRoot, { recursive: true, force: true });
      });
      if (r.identical) {
        process.stdout.write(chalk.green('identical') + ` ${scenario.name}: ${r.summary.events} events, sha256 ${r.summary.eventsSha256}\n`);
        return;
      }
      const d = r.diff!;
      if (o.update) {
        process.stdout.write(chalk.yellow('updated') + ` ${o.golden}:\n` + r.changes.map((c) => `  ${c}\n`).join(''));
        return;
      }
      process.stdout.write(
        chalk.red('different') +
          ` ${scenario.name}: ${d.file} line ${d.line}\n` +
          `  expected: ${d.expected ?? '(end of file)'}\n` +
          `  actual:   ${d.actual ?? '(end of file)'}\n`,
      );
      process.exitCode = 1;
    });
}
