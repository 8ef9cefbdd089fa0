#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import chalk from 'chalk';
import { UserError } from '../sim/errors.js';
import { registerRun } from './commands/run.js';
import { registerVerify } from './commands/verify.js';
import { registerAudit } from './commands/audit.js';
import { registerLobster } from './commands/lobster.js';
import { registerPaymentsReports } from './commands/report-payments.js';
import { registerReport } from './commands/report.js';
import { registerSweep } from './commands/sweep.js';

/**
 * The exsim command: argument parsing and printing only. Every command calls a
 * function of sim/ or engine/ that the tests call too.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('exsim')
    .description('Deterministic exchange simulator: same scenario + same seed = the same bytes out.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerVerify(program);
  registerAudit(program);
  registerLobster(program);
  // report positions|pnl first: it creates `report`, payments and recon join it.
  registerReport(program);
  registerPaymentsReports(program);
  registerSweep(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; a usage error is bad input (exit 2).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(chalk.red('error: ') + err.message + '\n');
      return err.exitCode;
    }
    process.stderr.write(chalk.red('internal error (a bug in exsim, please report it): ') + ((err as Error)?.stack ?? String(err)) + '\n');
    return 70;
  }
}

const code = await main(process.argv);
process.exitCode = code;
