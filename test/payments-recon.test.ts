import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../sim/run.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { paymentsReport, reconReport } from '../sim/payments-report.js';
import { reconCsv } from '../sim/payments-output.js';

const root = join(import.meta.dirname, '..');

describe('reconciliation against injected statement breaks', () => {
  it('finds exactly the injected breaks, no more and no less, and writes csv, json and sqlite', async () => {
    const file = join(root, 'scenarios', 'payments-recon.json');
    const sc = loadScenario(file);
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { payments: { requests: { idempotencyKey: string }[]; recon: { breaks: { class: string; key?: string; reference?: string }[] } } };
    const dir = mkdtempSync(join(tmpdir(), 'exsim-recon-'));
    try {
      const out = join(dir, 'run');
      await runScenario({ scenario: sc, outDir: out, audit: false, feedThread: 'inline', outputThread: 'inline' });
      const recon = reconReport(out);
      const pay = paymentsReport(out);
      const refOfKey = new Map(pay.payments.map((p) => [p.idempotencyKey, p.reference]));
      const expected = raw.payments.recon.breaks.map((b) => `${b.class} ${b.key !== undefined ? refOfKey.get(b.key) : b.reference}`).sort();
      const found = recon.breaks.map((b) => `${b.class} ${b.reference}`).sort();
      expect(found).toEqual(expected);
      // Every class is present once, and only the timing break resolved itself.
      for (const [cls, t] of Object.entries(recon.classes)) {
        expect(t.count, cls).toBe(1);
        expect(t.open, cls).toBe(cls === 'timing' ? 0 : 1);
      }
      expect(recon.classes['amount-mismatch']!.amount).toBe('0.10');
      const csv = readFileSync(join(out, 'recon.csv'), 'utf8');
      expect(csv).toBe(reconCsv(recon.breaks));
      expect(csv.trim().split('\n')).toHaveLength(1 + expected.length);
      // Per-class totals in CSV and in SQLite, with the amount rule stored beside them.
      const classesCsv = readFileSync(join(out, 'recon-classes.csv'), 'utf8').trim().split('\n');
      expect(classesCsv[0]).toBe('class,count,open,amount,amountRule');
      expect(classesCsv).toContain('amount-mismatch,1,1,0.10,abs(bank amount - ledger amount)');
      expect(classesCsv).toContain('timing,1,0,600.00,"abs(ledger amount, else bank amount)"');
      const db = new Database(join(out, 'payments.sqlite'), { readonly: true });
      try {
        const classes = db.prepare('SELECT class, count, open, resolved, amount_minor, amount_rule FROM recon_classes ORDER BY rowid').all() as Record<string, unknown>[];
        expect(classes.map((c) => c.class)).toEqual(Object.keys(recon.classes));
        expect(classes.find((c) => c.class === 'amount-mismatch')).toEqual({ class: 'amount-mismatch', count: 1, open: 1, resolved: 0, amount_minor: 10, amount_rule: 'abs(bank amount - ledger amount)' });
        expect(classes.find((c) => c.class === 'timing')).toMatchObject({ count: 1, open: 0, resolved: 1, amount_minor: 60_000 });
        // The per-break amounts add up to the class totals, so a GROUP BY gives the same table.
        const grouped = db.prepare('SELECT class, COUNT(*) AS n, SUM(amount_minor) AS amt FROM recon_breaks GROUP BY class').all() as { class: string; n: number; amt: number }[];
        for (const g of grouped) expect(classes.find((c) => c.class === g.class)).toMatchObject({ count: g.n, amount_minor: g.amt });
        const rows = db.prepare('SELECT COUNT(*) AS n FROM payments').get() as { n: number };
        expect(rows.n).toBe(raw.payments.requests.length);
        expect((db.prepare('SELECT COUNT(*) AS n FROM recon_breaks').get() as { n: number }).n).toBe(expected.length);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches lines that lost their reference by amount inside the date window (payments-recon-window), not outside it', async () => {
    const sc = loadScenario(join(root, 'scenarios', 'payments-recon-window.json'));
    const dir = mkdtempSync(join(tmpdir(), 'exsim-recon-'));
    try {
      await runScenario({ scenario: sc, outDir: dir, audit: false, feedThread: 'inline', outputThread: 'inline' });
      const r = reconReport(dir);
      expect(r.breaks.map((b) => [b.reference, b.foundAs, b.class, b.status, b.date, b.resolvedDate])).toEqual([
        // One business day late, inside windowDays 1: resolved by amount as a timing difference.
        ['PMT000002', 'missing-in-bank', 'timing', 'resolved', '2026-01-05', '2026-01-06'],
        // Three days late: outside the window, so both sides stay breaks.
        ['PMT000003', 'missing-in-bank', 'missing-in-bank', 'open', '2026-01-05', null],
        ['TRACE-0003', 'unknown-item', 'unknown-item', 'open', '2026-01-08', null],
      ]);
      // PMT000001 (untraced, same day) and PMT000004 (traced) matched on Monday.
      const events = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.find((e) => e.type === 'recon-run' && e.date === '2026-01-05')).toMatchObject({ matched: 2, breaks: 2 });
      // The statement really printed the bank's traces, not our references.
      const db = new Database(join(dir, 'payments.sqlite'), { readonly: true });
      try {
        const st = db.prepare('SELECT date, reference, amount_minor FROM statements ORDER BY date, reference').all();
        expect(st).toEqual([
          { date: '2026-01-05', reference: 'PMT000004', amount_minor: 40_000 },
          { date: '2026-01-05', reference: 'TRACE-0001', amount_minor: 100_000 },
          { date: '2026-01-06', reference: 'TRACE-0002', amount_minor: 200_000 },
          { date: '2026-01-08', reference: 'TRACE-0003', amount_minor: 300_000 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an injected timing break resolves the next business day, across a weekend', async () => {
    const file = join(root, 'scenarios', 'payments-recon.json');
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { payments: { days: number; requests: unknown[]; recon: { breaks: unknown[] } } };
    // Friday wire, shown on the bank's statement one business day late: Monday.
    raw.session = { date: '2026-01-09', open: '09:30:00', close: '16:00:00' };
    raw.payments.days = 5;
    raw.payments.requests = [{ at: '09:00:00', type: 'deposit', rail: 'wire', account: 'alice', amount: '1.00', idempotencyKey: 'f1' }];
    raw.payments.recon.breaks = [{ class: 'timing', key: 'f1' }];
    const sc = parseScenario(JSON.stringify(raw), 'friday.json');
    const dir = mkdtempSync(join(tmpdir(), 'exsim-recon-'));
    try {
      await runScenario({ scenario: sc, outDir: dir, audit: false, feedThread: 'inline', outputThread: 'inline' });
      const r = reconReport(dir);
      expect(r.breaks).toHaveLength(1);
      expect(r.breaks[0]).toMatchObject({ foundAs: 'missing-in-bank', class: 'timing', status: 'resolved', date: '2026-01-09', resolvedDate: '2026-01-12' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('payments scenario errors name the file, the JSON path and what was expected', () => {
  const base = () => ({
    name: 'p',
    seed: 1,
    session: { date: '2026-01-05', open: '09:30:00', close: '16:00:00' },
    instruments: [{ symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePrice: '100.00' }],
    accounts: [{ id: 'alice' }],
    payments: { banks: [{ name: 'b' }], requests: [] as unknown[], recon: { breaks: [] as unknown[] } },
  });
  const err = (mut: (s: ReturnType<typeof base>) => void): string => {
    const s = base();
    mut(s);
    try {
      parseScenario(JSON.stringify(s), 'x.json');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  it('reports bad requests precisely', () => {
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'deposit', account: 'zed', amount: '1.00', idempotencyKey: 'k' }))).toContain(
      'x.json: payments.requests[0].account: unknown account "zed"; expected one of "alice"',
    );
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'deposit', account: 'alice', amount: '1.001', idempotencyKey: 'k' }))).toContain(
      'x.json: payments.requests[0].amount: "1.001" has more decimals than USD allows (2)',
    );
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'withdrawal', account: 'alice', amount: '1.00' }))).toContain(
      'x.json: payments.requests[0].idempotencyKey: missing; every withdrawal carries an idempotency key',
    );
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'deposit', rail: 'wire', account: 'alice', amount: '1.00', idempotencyKey: 'k', outcome: 'R01' }))).toContain(
      'payments.requests[0].outcome: "R01" is an ACH return code; a wire is irrevocable once settled',
    );
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'deposit', account: 'alice', amount: '1.00', idempotencyKey: 'k', bank: 'nope' }))).toContain(
      'payments.requests[0].bank: unknown bank "nope"; expected one of "b"',
    );
    expect(err((s) => s.payments.requests.push({ at: '10:00:00', type: 'deposit', account: 'alice', amount: '1.00', idempotencyKey: 'k', color: 'red' }))).toContain(
      'payments.requests[0].color: unknown field',
    );
  });
  it('accepts ACH settlement T+1 or T+2 only', () => {
    expect(err((s) => Object.assign(s.payments, { ach: { settlementDays: 3 } }))).toContain('x.json: payments.ach.settlementDays: ');
    expect(err((s) => Object.assign(s.payments, { ach: { settlementDays: 0 } }))).toContain('x.json: payments.ach.settlementDays: ');
    expect(err((s) => Object.assign(s.payments, { ach: { settlementDays: 2 } }))).toBe('no error');
  });

  it('reports bad injected breaks precisely', () => {
    expect(err((s) => s.payments.recon.breaks.push({ class: 'duplicate', key: 'nope' }))).toContain(
      'payments.recon.breaks[0].key: "nope" is not the idempotencyKey of any request',
    );
    expect(err((s) => s.payments.recon.breaks.push({ class: 'unknown-item', date: '2026-01-05', amount: '1.00', direction: 'credit' }))).toContain(
      'payments.recon.breaks[0].reference: missing',
    );
    expect(err((s) => s.payments.recon.breaks.push({ class: 'lost', key: 'k' }))).toContain('payments.recon.breaks[0].class: expected one of "missing-in-bank"');
    const withRequest = (b: Record<string, unknown>) => (s: ReturnType<typeof base>) => {
      s.payments.requests.push({ at: '09:00:00', type: 'deposit', rail: 'wire', account: 'alice', amount: '1.00', idempotencyKey: 'k' });
      s.payments.recon.breaks.push(b);
    };
    expect(err(withRequest({ class: 'lost-reference', key: 'k', reference: 'TRACE-1', days: 2 }))).toBe('no error');
    expect(err(withRequest({ class: 'lost-reference', key: 'k', reference: 'PMT000001' }))).toContain('payments.recon.breaks[0].reference: "PMT000001" looks like one of our payment references');
    expect(err(withRequest({ class: 'lost-reference', key: 'k', amount: '2.00' }))).toContain('payments.recon.breaks[0].amount: not allowed on a lost-reference break');
    expect(err(withRequest({ class: 'duplicate', key: 'k', days: 1 }))).toContain('payments.recon.breaks[0].days: only a timing or lost-reference break has days');
    expect(err(withRequest({ class: 'timing', key: 'k', days: 0 }))).toContain('payments.recon.breaks[0].days: expected 1 to 10 business days late for a timing break');
  });
});
