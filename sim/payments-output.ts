/**
 * Payments outputs in the run directory:
 * - payments.sqlite: tables `payments` (one row per payment, with its fraud decision),
 *   `recon_breaks` (with the amount each adds to its class total), `recon_classes` (count, open,
 *   resolved and amount per class, with the amount rule), `statements` (every bank statement
 *   line) and `meta`. A separate file rather
 *   than tables in audit.sqlite: the audit log is written by the output thread until after
 *   components finish, is hash-chained over its own schema, and may be switched off (--no-audit,
 *   verify); payments tables must exist in every run and must not touch the chain.
 * - recon.csv: every break; recon-classes.csv: counts and amounts per class; recon.json: both.
 * Read back by sim/payments-report.ts for `exsim report payments|recon`.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDate } from '../engine/calendar.js';
import { DIRECTION_NAME, PAYMENT_REASON_NAME, PAYMENT_STATE_NAME, RAIL_NAME, paymentRef } from '../engine/payment.js';
import { BREAK_AMOUNT_RULE, BREAK_CLASS_NAME, type ReconBreak, breakAmountMinor, breakTotals } from '../engine/recon.js';
import type { PaymentsSystem } from './payments.js';

export const PAYMENTS_DB = 'payments.sqlite';
export const RECON_CSV = 'recon.csv';
export const RECON_JSON = 'recon.json';
export const RECON_CLASSES_CSV = 'recon-classes.csv';

export interface ReconBreakRow {
  id: number;
  bank: string;
  date: string;
  foundAs: string;
  class: string;
  status: 'open' | 'resolved';
  resolvedDate: string | null;
  reference: string;
  paymentId: number | null;
  ledgerAmount: string | null;
  bankAmount: string | null;
  /** What the break adds to its class total (BREAK_AMOUNT_RULE). */
  amount: string;
}

export interface ReconClassRow {
  count: number;
  open: number;
  amount: string;
  /** How each break's amount is taken (the difference for amount-mismatch). */
  amountRule: string;
}

export interface ReconJson {
  currency: string;
  classes: Record<string, ReconClassRow>;
  breaks: ReconBreakRow[];
}

function breakRow(s: PaymentsSystem, b: ReconBreak): ReconBreakRow {
  return {
    id: b.id,
    bank: s.cfg.banks[b.bank]!.name,
    date: formatDate(b.day),
    foundAs: BREAK_CLASS_NAME[b.foundAs],
    class: BREAK_CLASS_NAME[b.cls],
    status: b.status,
    resolvedDate: b.resolvedDay === null ? null : formatDate(b.resolvedDay),
    reference: b.ref,
    paymentId: b.paymentId === 0 ? null : b.paymentId,
    ledgerAmount: b.ledgerAmountMinor === null ? null : s.money(b.ledgerAmountMinor),
    bankAmount: b.bankAmountMinor === null ? null : s.money(b.bankAmountMinor),
    amount: s.money(breakAmountMinor(b)),
  };
}

export function reconJson(s: PaymentsSystem): ReconJson {
  const t = breakTotals(s.breaks);
  const classes: ReconJson['classes'] = {};
  for (const n of BREAK_CLASS_NAME) classes[n] = { count: t[n].count, open: t[n].open, amount: s.money(t[n].amountMinor), amountRule: BREAK_AMOUNT_RULE[n] };
  return { currency: s.cfg.currency.code, classes, breaks: s.breaks.map((b) => breakRow(s, b)) };
}

const CSV_COLUMNS = ['id', 'bank', 'date', 'foundAs', 'class', 'status', 'resolvedDate', 'reference', 'paymentId', 'ledgerAmount', 'bankAmount', 'amount'] as const;
const CLASS_CSV_COLUMNS = ['class', 'count', 'open', 'amount', 'amountRule'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const t = String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export function reconCsv(rows: readonly ReconBreakRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

/** One row per break class (every class, also those with no break), in BREAK_CLASS_NAME order. */
export function reconClassesCsv(classes: ReconJson['classes']): string {
  const lines = [CLASS_CSV_COLUMNS.join(',')];
  for (const [cls, r] of Object.entries(classes)) lines.push([cls, r.count, r.open, r.amount, r.amountRule].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

export function writePaymentsOutputs(s: PaymentsSystem, dir: string, scenario: string, seed: number): void {
  const recon = reconJson(s);
  writeFileSync(join(dir, RECON_JSON), JSON.stringify(recon, null, 2) + '\n');
  writeFileSync(join(dir, RECON_CSV), reconCsv(recon.breaks));
  writeFileSync(join(dir, RECON_CLASSES_CSV), reconClassesCsv(recon.classes));
  const db = new Database(join(dir, PAYMENTS_DB));
  try {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE payments (
        id INTEGER PRIMARY KEY, reference TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, request_index INTEGER NOT NULL,
        account TEXT NOT NULL, direction TEXT NOT NULL, rail TEXT NOT NULL, bank TEXT NOT NULL,
        amount_minor INTEGER NOT NULL, instant_minor INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
        attempts INTEGER NOT NULL, created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL,
        fraud_decision TEXT NOT NULL, fraud_rule TEXT NOT NULL, fraud_score INTEGER NOT NULL, fraud_alert INTEGER NOT NULL);
      CREATE TABLE recon_breaks (
        id INTEGER PRIMARY KEY, bank TEXT NOT NULL, date TEXT NOT NULL, found_as TEXT NOT NULL, class TEXT NOT NULL,
        status TEXT NOT NULL, resolved_date TEXT, reference TEXT NOT NULL, payment_id INTEGER,
        ledger_amount_minor INTEGER, bank_amount_minor INTEGER, amount_minor INTEGER NOT NULL);
      CREATE TABLE recon_classes (
        class TEXT PRIMARY KEY, count INTEGER NOT NULL, open INTEGER NOT NULL, resolved INTEGER NOT NULL,
        amount_minor INTEGER NOT NULL, amount_rule TEXT NOT NULL);
      CREATE TABLE statements (bank TEXT NOT NULL, date TEXT NOT NULL, reference TEXT NOT NULL, amount_minor INTEGER NOT NULL);
    `);
    const tx = db.transaction(() => {
      const meta = db.prepare('INSERT INTO meta VALUES (?, ?)');
      meta.run('scenario', scenario);
      meta.run('seed', String(seed));
      meta.run('currency', s.cfg.currency.code);
      meta.run('minor_exponent', String(s.cfg.currency.minorExponent));
      const ins = db.prepare('INSERT INTO payments VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
      const fraud = new Map(s.fraudAudit.map((f) => [f.paymentId, f]));
      for (const p of s.payments) {
        const f = fraud.get(p.id)!;
        ins.run(
          p.id, paymentRef(p.id), p.key, p.requestIndex, s.accountNames[p.account]!, DIRECTION_NAME[p.direction], RAIL_NAME[p.rail], s.cfg.banks[p.bank]!.name,
          p.amountMinor, p.instantMinor, PAYMENT_STATE_NAME[p.state], PAYMENT_REASON_NAME[p.reason], p.attempts, p.createdNs, p.updatedNs,
          f.decision, f.rule, f.score, f.alert ? 1 : 0,
        );
      }
      const br = db.prepare('INSERT INTO recon_breaks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
      for (const b of s.breaks) {
        br.run(b.id, s.cfg.banks[b.bank]!.name, formatDate(b.day), BREAK_CLASS_NAME[b.foundAs], BREAK_CLASS_NAME[b.cls], b.status,
          b.resolvedDay === null ? null : formatDate(b.resolvedDay), b.ref, b.paymentId === 0 ? null : b.paymentId, b.ledgerAmountMinor, b.bankAmountMinor, breakAmountMinor(b));
      }
      const totals = breakTotals(s.breaks);
      const cl = db.prepare('INSERT INTO recon_classes VALUES (?,?,?,?,?,?)');
      for (const n of BREAK_CLASS_NAME) cl.run(n, totals[n].count, totals[n].open, totals[n].count - totals[n].open, totals[n].amountMinor, BREAK_AMOUNT_RULE[n]);
      const st = db.prepare('INSERT INTO statements VALUES (?,?,?,?)');
      for (const x of s.statements) st.run(s.cfg.banks[x.bank]!.name, formatDate(x.day), x.ref, x.amountMinor);
    });
    tx();
  } finally {
    db.close();
  }
}
