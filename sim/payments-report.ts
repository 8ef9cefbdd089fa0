/**
 * Reports over a run directory's payments outputs (payments.sqlite, recon.json), for
 * `exsim report payments` and `exsim report recon`. Plain data in, plain data out; the CLI prints.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatScaled } from '../engine/decimal.js';
import { UserError } from './errors.js';
import { PAYMENTS_DB, RECON_CLASSES_CSV, RECON_CSV, RECON_JSON, type ReconJson } from './payments-output.js';

export interface PaymentRow {
  id: number;
  reference: string;
  idempotencyKey: string;
  account: string;
  direction: string;
  rail: string;
  bank: string;
  amount: string;
  state: string;
  reason: string;
  attempts: number;
  fraudDecision: string;
  fraudRule: string;
  fraudScore: number;
  fraudAlert: boolean;
}

export interface PaymentsReport {
  currency: string;
  payments: PaymentRow[];
  /** "deposit:settled" -> count and amount. */
  byState: Record<string, { count: number; amount: string }>;
}

function need(runDir: string, file: string): string {
  const p = join(runDir, file);
  if (!existsSync(p)) throw new UserError(`cannot read ${p}: no such file (was the run's scenario without a payments section?)`);
  return p;
}

export function paymentsReport(runDir: string): PaymentsReport {
  const db = new Database(need(runDir, PAYMENTS_DB), { readonly: true, fileMustExist: true });
  try {
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const exp = Number(meta.get('minor_exponent') ?? '2');
    const rows = db.prepare('SELECT * FROM payments ORDER BY id').all() as Record<string, string | number>[];
    const payments = rows.map(
      (r): PaymentRow => ({
        id: r.id as number,
        reference: r.reference as string,
        idempotencyKey: r.idempotency_key as string,
        account: r.account as string,
        direction: r.direction as string,
        rail: r.rail as string,
        bank: r.bank as string,
        amount: formatScaled(r.amount_minor as number, exp),
        state: r.state as string,
        reason: r.reason as string,
        attempts: r.attempts as number,
        fraudDecision: r.fraud_decision as string,
        fraudRule: r.fraud_rule as string,
        fraudScore: r.fraud_score as number,
        fraudAlert: r.fraud_alert === 1,
      }),
    );
    const sums = db.prepare('SELECT direction, state, COUNT(*) AS n, SUM(amount_minor) AS amt FROM payments GROUP BY direction, state ORDER BY direction, state').all() as {
      direction: string;
      state: string;
      n: number;
      amt: number;
    }[];
    const byState: PaymentsReport['byState'] = {};
    for (const s of sums) byState[`${s.direction}:${s.state}`] = { count: s.n, amount: formatScaled(s.amt, exp) };
    return { currency: meta.get('currency') ?? '', payments, byState };
  } finally {
    db.close();
  }
}

export function reconReport(runDir: string): ReconJson {
  return JSON.parse(readFileSync(need(runDir, RECON_JSON), 'utf8')) as ReconJson;
}

export function reconCsvText(runDir: string): string {
  return readFileSync(need(runDir, RECON_CSV), 'utf8');
}

export function reconClassesCsvText(runDir: string): string {
  return readFileSync(need(runDir, RECON_CLASSES_CSV), 'utf8');
}
