import { tableStyle } from '../table-style.js';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { PNL_FILE, POSITIONS_FILE, readRunReport, type PnlFile, type PositionsFile } from '../../sim/sinks/accounts-report.js';

/** `exsim report positions|pnl <run-dir>`: tables (or --json) from the files the run wrote. */
export function registerReport(program: Command): void {
  const report = program.command('report').description('reports over a finished run directory: positions, pnl (scenarios with accounts), payments, recon (scenarios with payments)');
  report
    .command('positions')
    .description('cash, equity and margin per account (requirements for margin accounts), open positions (settled and not yet delivered lots) with cost and P&L at the final marks, firm totals with cash and equity (from positions.json)')
    .argument('<run-dir>', 'output directory of `exsim run`')
    .option('--json', 'print positions.json as it is')
    .action((dir: string, o: { json?: boolean }) => {
      const p = readRunReport<PositionsFile>(dir, POSITIONS_FILE);
      if (o.json) {
        process.stdout.write(JSON.stringify(p, null, 2) + '\n');
        return;
      }
      const a = new Table({ style: tableStyle(), head: ['account', 'firm', 'type', 'cash avail', 'unsettled', 'equity', 'init req', 'maint req', 'realized', 'unrealized', 'fees', 'P&L'] });
      for (const r of p.accounts) a.push([r.account, r.firm, r.type, r.cashAvailable, r.cashUnsettled, r.equity, r.initialRequirement ?? '-', r.maintenanceRequirement ?? '-', r.realized, r.unrealized, r.fees, r.pnl]);
      const t = new Table({ style: tableStyle(), head: ['account', 'instrument', 'position', 'settled', 'unsettled', 'avg price', 'mark', 'market value', 'unrealized', 'realized', 'fees'] });
      for (const r of p.positions) t.push([r.account, r.instrument, r.position, r.settled, r.unsettled, r.avgPrice ?? '-', r.mark, r.marketValue, r.unrealized, r.realized, r.fees]);
      const f = new Table({ style: tableStyle(), head: ['firm', 'accounts', 'positions', 'cash', 'equity', 'P&L'] });
      for (const r of p.firms) f.push([r.firm, r.accounts.join(', '), Object.entries(r.positions).map(([k, v]) => `${k} ${v}`).join(', ') || '-', r.cash, r.equity, r.pnl]);
      const marks = Object.entries(p.marks).map(([k, v]) => `${k} ${v}`).join(', ');
      process.stdout.write(`${p.scenario}: marks ${marks}\n${a.toString()}\n${t.toString()}\n${f.toString()}\n`);
    });
  report
    .command('pnl')
    .description('daily P&L per account and per firm (end-of-day history) and totals per account and firm (from pnl.json)')
    .argument('<run-dir>', 'output directory of `exsim run`')
    .option('--json', 'print pnl.json as it is')
    .action((dir: string, o: { json?: boolean }) => {
      const p = readRunReport<PnlFile>(dir, PNL_FILE);
      if (o.json) {
        process.stdout.write(JSON.stringify(p, null, 2) + '\n');
        return;
      }
      const d = new Table({ style: tableStyle(), head: ['date', 'account', 'firm', 'realized', 'unrealized', 'fees', 'total', 'day'] });
      for (const r of p.daily) d.push([r.date, r.account, r.firm, r.realized, r.unrealized, r.fees, r.total, r.day]);
      const fd = new Table({ style: tableStyle(), head: ['date', 'firm', 'realized', 'unrealized', 'fees', 'total', 'day'] });
      for (const r of p.firmDaily) fd.push([r.date, r.firm, r.realized, r.unrealized, r.fees, r.total, r.day]);
      const t = new Table({ style: tableStyle(), head: ['account', 'firm', 'realized', 'unrealized', 'fees', 'total'] });
      for (const r of p.totals) t.push([r.account, r.firm, r.realized, r.unrealized, r.fees, r.total]);
      const f = new Table({ style: tableStyle(), head: ['firm', 'total'] });
      for (const r of p.firms) f.push([r.firm, r.total]);
      process.stdout.write(`${p.scenario}\n${d.toString()}\n${fd.toString()}\n${t.toString()}\n${f.toString()}\n`);
    });
}
