import { tableStyle } from '../table-style.js';
import type { Command } from 'commander';
import chalk from 'chalk';
import Table from 'cli-table3';
import { existsSync } from 'node:fs';
import { UserError } from '../../sim/errors.js';
import { verifyAudit } from '../../sim/sinks/audit.js';
import { queryAudit } from '../../sim/sinks/audit-query.js';
import { parseIntOption } from '../options.js';

function mustExist(path: string): void {
  if (!existsSync(path)) throw new UserError(`cannot read ${path}: no such file`);
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('inspect and check an audit log (audit.sqlite)');
  audit
    .command('verify')
    .description('check the hash chain; exit 1 and name the first bad row when tampered')
    .argument('<audit>', 'audit.sqlite of a run')
    .action((path: string) => {
      mustExist(path);
      const r = verifyAudit(path);
      if (r.ok) {
        process.stdout.write(chalk.green('ok') + ` ${r.rows} rows, hash chain intact\n`);
        return;
      }
      if (r.notAudit) throw new UserError(`${path}: ${r.reason}`);
      const where = r.firstBadSeq !== undefined ? `first bad row seq ${r.firstBadSeq}: ` : '';
      process.stdout.write(chalk.red('tampered') + `: ${where}${r.reason}\n`);
      process.exitCode = 1;
    });
  audit
    .command('query')
    .description('list audited events, filtered')
    .argument('<audit>', 'audit.sqlite of a run')
    .option('--type <type>', 'event type, e.g. trade, accepted, rejected')
    .option('--order <id>', 'venue order id (as taker or maker)')
    .option('--account <name>', 'account (as taker or maker)')
    .option('--from <ns>', 'virtual time from (ns, inclusive)')
    .option('--to <ns>', 'virtual time to (ns, inclusive)')
    .option('--limit <n>', 'at most this many rows', '1000')
    .option('--json', 'one JSON event per line (NDJSON)')
    .action((path: string, o: { type?: string; order?: string; account?: string; from?: string; to?: string; limit: string; json?: boolean }) => {
      mustExist(path);
      const rows = queryAudit(path, {
        type: o.type,
        orderId: parseIntOption(o.order, '--order'),
        account: o.account,
        fromNs: parseIntOption(o.from, '--from'),
        toNs: parseIntOption(o.to, '--to'),
        limit: parseIntOption(o.limit, '--limit'),
      });
      if (o.json) {
        process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
        return;
      }
      const t = new Table({ style: tableStyle(), head: ['seq', 'ts', 'type', 'details'] });
      for (const r of rows) {
        const { seq, ts, type, ...rest } = r as { seq: number; ts: number; type: string };
        t.push([seq, ts, type, Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' ')]);
      }
      process.stdout.write(t.toString() + `\n${rows.length} rows\n`);
    });
}
