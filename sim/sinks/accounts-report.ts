import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackOffice } from '../../engine/back-office.js';
import { formatDate } from '../../engine/calendar.js';
import { formatScaled, fromUnits } from '../../engine/decimal.js';
import { ACCOUNT_KIND_NAME, TRANSFER_CODE_NAME } from '../../engine/ledger.js';
import { UserError } from '../errors.js';
import type { Scenario } from '../scenario.js';

/**
 * The accounts' view of a finished run, as files beside events.ndjson:
 * - positions.json: per account cash, equity, margin requirements, and every open position
 *   with its cost, mark and P&L; per firm the aggregate positions and P&L;
 * - pnl.json: the daily P&L history (one row per account per end of day) and the totals;
 * - ledger.sqlite: the double-entry journal (every posting of every transfer) and the daily P&L.
 *
 * The journal gets its own file rather than a table in audit.sqlite: the audit log is written
 * by the output thread while the run goes (hash-chained, verified row by row, optional with
 * --no-audit), whereas the journal belongs to the core thread and is complete only at the end;
 * one writer per SQLite file keeps both simple, and the journal exists even without the audit.
 * Money is a decimal string in the account's currency; sizes and prices as in events.
 */

export const POSITIONS_FILE = 'positions.json';
export const PNL_FILE = 'pnl.json';
export const LEDGER_FILE = 'ledger.sqlite';

export interface AccountRow {
  account: string;
  firm: string;
  type: 'cash' | 'margin';
  currency: string;
  cashAvailable: string;
  cashHeld: string;
  cashUnsettled: string;
  equity: string;
  /** Margin accounts only (null for cash accounts, which buy with settled cash and have no requirement). */
  initialRequirement: string | null;
  maintenanceRequirement: string | null;
  realized: string;
  unrealized: string;
  fees: string;
  pnl: string;
}

export interface PositionRow {
  account: string;
  firm: string;
  instrument: string;
  position: string;
  /** Of the position: lots delivered (T+N settled) and lots traded but not yet delivered (futures: all settled, never delivered). */
  settled: string;
  unsettled: string;
  /** Cost per unit at the instrument's tick (average cost, rounded to the tick); null when flat. */
  avgPrice: string | null;
  cost: string;
  mark: string;
  marketValue: string;
  unrealized: string;
  realized: string;
  fees: string;
}

export interface FirmRow {
  firm: string;
  accounts: string[];
  positions: Record<string, string>;
  /** Sums over the firm's accounts (one currency: the scenario loader requires it). */
  cash: string;
  equity: string;
  pnl: string;
}

export interface PositionsFile {
  scenario: string;
  marks: Record<string, string>;
  accounts: AccountRow[];
  positions: PositionRow[];
  firms: FirmRow[];
}

export interface PnlDayRow {
  date: string;
  account: string;
  firm: string;
  realized: string;
  unrealized: string;
  fees: string;
  total: string;
  day: string;
}

/** A firm's day: the same figures as an account's, summed over its accounts. */
export type PnlFirmDayRow = Omit<PnlDayRow, 'account'>;

export interface PnlFile {
  scenario: string;
  daily: PnlDayRow[];
  /** The daily rows summed per firm and date (firms in scenario order within a date). */
  firmDaily: PnlFirmDayRow[];
  totals: { account: string; firm: string; realized: string; unrealized: string; fees: string; total: string }[];
  firms: { firm: string; total: string }[];
}

export interface AccountsReport {
  positions: PositionsFile;
  pnl: PnlFile;
  /** What goes into summary.json `extra.accounts`. */
  summary: {
    accounts: { account: string; cash: string; equity: string; positions: Record<string, string> }[];
    marginCalls: number;
    ledger: { transfers: number; postings: number; balanced: boolean };
  };
}

export function accountsReport(sc: Scenario, bo: BackOffice): AccountsReport {
  const spec = sc.backOffice!;
  const marks = bo.updateMarks();
  const pf = bo.clearing.portfolio;
  const L = bo.clearing.ledger;
  const cl = bo.clearing;
  const exp = spec.moneyExponents;
  const money = (a: number, minor: number): string => formatScaled(minor, exp[a] ?? 2);
  const firmName = (a: number): string => spec.firmNames[spec.accounts[a]!.firm]!;
  const sym = (i: number): string => sc.instruments[i]!.symbol;
  const px = (i: number, ticks: number): string => fromUnits(ticks, sc.instruments[i]!.tickSize);
  const size = (i: number, lots: number): string => fromUnits(lots, sc.instruments[i]!.lotSize);

  const accounts: AccountRow[] = [];
  const positions: PositionRow[] = [];
  for (let a = 0; a < bo.accountCount; a++) {
    const acc = spec.accounts[a]!;
    accounts.push({
      account: acc.name,
      firm: firmName(a),
      type: acc.type,
      currency: spec.currencies[acc.currency]!.code,
      cashAvailable: money(a, L.normalBalance(cl.cashAvailableAccount(a))),
      cashHeld: money(a, L.normalBalance(cl.cashHeldAccount(a))),
      cashUnsettled: money(a, L.normalBalance(cl.cashUnsettledAccount(a))),
      equity: money(a, cl.equityMinor(a, marks)),
      initialRequirement: acc.type === 'margin' ? money(a, bo.margin.initialRequirementMinor(a, marks)) : null,
      maintenanceRequirement: acc.type === 'margin' ? money(a, bo.margin.maintenanceRequirementMinor(a, marks)) : null,
      realized: money(a, pf.accountRealizedMinor(a)),
      unrealized: money(a, pf.accountUnrealizedMinor(a, marks)),
      fees: money(a, pf.accountFeesMinor(a)),
      pnl: money(a, pf.accountPnlMinor(a, marks)),
    });
    for (let i = 0; i < bo.instrumentCount; i++) {
      const p = pf.position(a, i);
      const unsettled = cl.unsettledLots(a, i);
      if (p === 0 && unsettled === 0 && pf.realizedMinor(a, i) === 0 && pf.feesMinor(a, i) === 0) continue;
      const ins = spec.instruments[i]!;
      // cost / (|p| x value of one tick-lot) = the average price in ticks.
      const avgTicks = p === 0 ? 0 : Math.round((pf.costMinor(a, i) * ins.den) / (ins.num * p));
      positions.push({
        account: acc.name,
        firm: firmName(a),
        instrument: sym(i),
        position: size(i, p),
        settled: size(i, cl.settledLots(a, i)),
        unsettled: size(i, unsettled),
        avgPrice: p === 0 ? null : px(i, avgTicks),
        cost: money(a, pf.costMinor(a, i)),
        mark: px(i, marks[i]!),
        marketValue: money(a, pf.markValueMinor(a, i, marks[i]!)),
        unrealized: money(a, pf.unrealizedMinor(a, i, marks[i]!)),
        realized: money(a, pf.realizedMinor(a, i)),
        fees: money(a, pf.feesMinor(a, i)),
      });
    }
  }
  const firms: FirmRow[] = spec.firmNames.map((firm, f) => {
    const members = pf.accountsOfFirm(f);
    const pos: Record<string, string> = {};
    for (let i = 0; i < bo.instrumentCount; i++) {
      const q = pf.firmPosition(f, i);
      if (q !== 0) pos[sym(i)] = size(i, q);
    }
    let cashMinor = 0;
    let equityMinor = 0;
    for (const a of members) {
      cashMinor += cl.cashMinor(a);
      equityMinor += cl.equityMinor(a, marks);
    }
    const m0 = members[0] ?? 0;
    return { firm, accounts: members.map((a) => spec.accounts[a]!.name), positions: pos, cash: money(m0, cashMinor), equity: money(m0, equityMinor), pnl: money(m0, pf.firmPnlMinor(f, marks)) };
  });
  const markRec: Record<string, string> = {};
  for (let i = 0; i < bo.instrumentCount; i++) markRec[sym(i)] = px(i, marks[i]!);

  const daily: PnlDayRow[] = pf.history.map((r) => ({
    date: formatDate(r.day),
    account: spec.accounts[r.account]!.name,
    firm: firmName(r.account),
    realized: money(r.account, r.realizedMinor),
    unrealized: money(r.account, r.unrealizedMinor),
    fees: money(r.account, r.feesMinor),
    total: money(r.account, r.totalMinor),
    day: money(r.account, r.dayMinor),
  }));
  // Per firm and date: sums of the accounts' rows (history is in date order, accounts within a date).
  const firmDays = new Map<string, { day: number; firm: number; account: number; realized: number; unrealized: number; fees: number; total: number; dayPnl: number }>();
  for (const r of pf.history) {
    const f = spec.accounts[r.account]!.firm;
    const k = `${r.day}:${f}`;
    const x = firmDays.get(k) ?? { day: r.day, firm: f, account: r.account, realized: 0, unrealized: 0, fees: 0, total: 0, dayPnl: 0 };
    x.realized += r.realizedMinor;
    x.unrealized += r.unrealizedMinor;
    x.fees += r.feesMinor;
    x.total += r.totalMinor;
    x.dayPnl += r.dayMinor;
    firmDays.set(k, x);
  }
  const firmDaily: PnlFirmDayRow[] = [...firmDays.values()]
    .sort((p, q) => p.day - q.day || p.firm - q.firm)
    .map((x) => ({
      date: formatDate(x.day),
      firm: spec.firmNames[x.firm]!,
      realized: money(x.account, x.realized),
      unrealized: money(x.account, x.unrealized),
      fees: money(x.account, x.fees),
      total: money(x.account, x.total),
      day: money(x.account, x.dayPnl),
    }));
  const totals = accounts.map((x) => ({ account: x.account, firm: x.firm, realized: x.realized, unrealized: x.unrealized, fees: x.fees, total: x.pnl }));
  const tb = L.trialBalance();
  return {
    positions: { scenario: sc.name, marks: markRec, accounts, positions, firms },
    pnl: { scenario: sc.name, daily, firmDaily, totals, firms: firms.map((f) => ({ firm: f.firm, total: f.pnl })) },
    summary: {
      accounts: accounts.map((x, a) => {
        const pos: Record<string, string> = {};
        for (let i = 0; i < bo.instrumentCount; i++) if (pf.position(a, i) !== 0) pos[sym(i)] = size(i, pf.position(a, i));
        return { account: x.account, cash: money(a, cl.cashMinor(a)), equity: x.equity, positions: pos };
      }),
      marginCalls: bo.marginCalls.length,
      ledger: { transfers: L.transferCount, postings: L.postingCount, balanced: tb.every((v) => v === 0) },
    },
  };
}

export function writeAccountsFiles(runDir: string, sc: Scenario, bo: BackOffice, r: AccountsReport): void {
  writeFileSync(join(runDir, POSITIONS_FILE), JSON.stringify(r.positions, null, 2) + '\n');
  writeFileSync(join(runDir, PNL_FILE), JSON.stringify(r.pnl, null, 2) + '\n');
  writeLedger(join(runDir, LEDGER_FILE), sc, bo);
}

function writeLedger(path: string, sc: Scenario, bo: BackOffice): void {
  const L = bo.clearing.ledger;
  const db = new Database(path);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE assets (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
      CREATE TABLE ledger_accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, asset INTEGER NOT NULL, kind TEXT NOT NULL, balance INTEGER NOT NULL);
      CREATE TABLE journal (transfer_id INTEGER NOT NULL, ts INTEGER NOT NULL, code TEXT NOT NULL, ref INTEGER NOT NULL, account INTEGER NOT NULL, amount INTEGER NOT NULL);
      CREATE TABLE pnl_daily (date TEXT NOT NULL, account TEXT NOT NULL, realized INTEGER NOT NULL, unrealized INTEGER NOT NULL, fees INTEGER NOT NULL, total INTEGER NOT NULL, day INTEGER NOT NULL);
    `);
    db.transaction(() => {
      const meta = db.prepare('INSERT INTO meta VALUES (?, ?)');
      meta.run('scenario', sc.name);
      meta.run('seed', String(sc.seed));
      meta.run('amounts', 'integers: minor units of the currency for cash assets, lots for instrument assets; positive = debit');
      const asset = db.prepare('INSERT INTO assets VALUES (?, ?)');
      for (let k = 0; k < L.assetCount; k++) asset.run(k, L.assetCode(k));
      const acct = db.prepare('INSERT INTO ledger_accounts VALUES (?, ?, ?, ?, ?)');
      for (let k = 0; k < L.accountCount; k++) acct.run(k, L.accountName(k), L.accountAsset(k), ACCOUNT_KIND_NAME[L.accountKind(k)], L.balance(k));
      const j = db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)');
      L.forEachEntry((t, ts, code, ref, account, amount) => j.run(t, ts, TRANSFER_CODE_NAME[code], ref, account, amount));
      const p = db.prepare('INSERT INTO pnl_daily VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const r of bo.clearing.portfolio.history) {
        p.run(formatDate(r.day), sc.backOffice!.accounts[r.account]!.name, r.realizedMinor, r.unrealizedMinor, r.feesMinor, r.totalMinor, r.dayMinor);
      }
    })();
    db.exec('CREATE INDEX journal_account ON journal (account)');
  } finally {
    db.close();
  }
}

/** Reads a report file a run wrote; a missing file means the run had no back office. */
export function readRunReport<T>(runDir: string, file: typeof POSITIONS_FILE | typeof PNL_FILE): T {
  const path = join(runDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`cannot read ${path}: no such file (was ${runDir} written by \`exsim run\` with a scenario that has accounts?)`);
    throw new UserError(`cannot read ${path}: ${code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}
