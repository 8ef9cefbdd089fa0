import { tableStyle } from '../table-style.js';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { paymentsReport, reconClassesCsvText, reconCsvText, reconReport } from '../../sim/payments-report.js';

/** `exsim report payments|recon <run-dir>`: adds to an existing `report` command or creates it. */
export function registerPaymentsReports(program: Command): void {
  const report = program.commands.find((c) => c.name() === 'report') ?? program.command('report').description('reports over a run directory');
  report
    .command('payments')
    .description('payments of a run: state, amounts, attempts and fraud decisions (payments.sqlite)')
    .argument('<run-dir>', 'output directory of a run')
    .option('--json', 'print JSON')
    .action((dir: string, o: { json?: boolean }) => {
      const r = paymentsReport(dir);
      if (o.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const t = new Table({ style: tableStyle(), head: ['id', 'key', 'account', 'dir', 'rail', 'bank', `amount ${r.currency}`, 'state', 'reason', 'tries', 'fraud'] });
      for (const p of r.payments) {
        t.push([p.id, p.idempotencyKey, p.account, p.direction, p.rail, p.bank, p.amount, p.state, p.reason, p.attempts, `${p.fraudDecision} ${p.fraudRule} ${p.fraudScore}${p.fraudAlert ? ' ALERT' : ''}`]);
      }
      const s = new Table({ style: tableStyle(), head: ['direction:state', 'count', `amount ${r.currency}`] });
      for (const [k, v] of Object.entries(r.byState)) s.push([k, v.count, v.amount]);
      process.stdout.write(`${t.toString()}\n${s.toString()}\n`);
    });
  report
    .command('recon')
    .description('reconciliation breaks of a run, with counts and amounts per class (recon.json; also recon.csv, recon-classes.csv and payments.sqlite tables recon_breaks, recon_classes)')
    .argument('<run-dir>', 'output directory of a run')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV: the breaks (recon.csv), or with --classes the counts and amounts per class (recon-classes.csv)')
    .option('--classes', 'with --csv: the per-class totals instead of the breaks')
    .action((dir: string, o: { json?: boolean; csv?: boolean; classes?: boolean }) => {
      if (o.csv) {
        process.stdout.write(o.classes ? reconClassesCsvText(dir) : reconCsvText(dir));
        return;
      }
      const r = reconReport(dir);
      if (o.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const t = new Table({ style: tableStyle(), head: ['id', 'bank', 'date', 'class', 'found as', 'status', 'resolved', 'reference', 'ledger', 'bank amt'] });
      for (const b of r.breaks) t.push([b.id, b.bank, b.date, b.class, b.foundAs, b.status, b.resolvedDate ?? '-', b.reference, b.ledgerAmount ?? '-', b.bankAmount ?? '-']);
      const c = new Table({ style: tableStyle(), head: ['class', 'count', 'open', `amount ${r.currency}`, 'amount rule'] });
      for (const [k, v] of Object.entries(r.classes)) c.push([k, v.count, v.open, v.amount, v.amountRule]);
      process.stdout.write(`${t.toString()}\n${c.toString()}\n${r.breaks.length} breaks\n`);
    });
}
