import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromUnits } from '../../engine/decimal.js';
import { FILL_LIQUIDITY_NAME } from '../../engine/replay-venue.js';
import { NO_PRICE, ORDER_TYPE_NAME, SIDE_NAME, TIF_NAME } from '../../engine/types.js';
import type { Scenario } from '../scenario.js';
import { formatNs } from '../scenario-time.js';
import { halfTickPrice, isNumericMetric, money } from './metrics.js';
import { MARKOUT_HORIZONS_NS } from './record.js';
import type { StrategyRunner } from './runner.js';

/**
 * Tables for pandas and polars: each as CSV (header row, RFC 4180 quoting) and
 * NDJSON (one object per line, keys in the CSV's column order). In NDJSON,
 * prices, sizes (lots x lotSize) and money are exact decimal strings, as in
 * events.ndjson; counts, lot counts, times and statistics are JSON numbers,
 * flags booleans, and a missing value is null ('' in CSV). Statistics are
 * rounded to fixed decimals first, so the files are byte-identical run to run.
 */
export const BACKTEST_FILES = [
  'fills.csv',
  'fills.ndjson',
  'orders.csv',
  'orders.ndjson',
  'equity.csv',
  'equity.ndjson',
  'metrics.csv',
  'metrics.ndjson',
  'report.html',
  'strategy.log',
] as const;

export type Cell = string | number | boolean | null;

export interface Table {
  columns: string[];
  rows: Cell[][];
  /**
   * Columns whose text cells are fixed-decimal numbers (statistics, times in ms): text in CSV,
   * where "0.500" keeps its decimals, and JSON numbers in NDJSON ('' becomes null).
   */
  numeric?: ReadonlySet<string>;
}

function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: Table): string {
  const out = [t.columns.map(csvCell).join(',')];
  for (const r of t.rows) out.push(r.map(csvCell).join(','));
  return out.join('\n') + '\n';
}

export function toNdjson(t: Table): string {
  const numeric = t.columns.map((c) => t.numeric?.has(c) === true);
  let s = '';
  for (const r of t.rows) {
    const o: Record<string, Cell> = {};
    t.columns.forEach((c, k) => {
      const v = r[k] ?? null;
      o[c] = numeric[k] && typeof v === 'string' ? (v === '' ? null : Number(v)) : v;
    });
    s += JSON.stringify(o) + '\n';
  }
  return s;
}

function px(ticks: number, tickSize: string): string | null {
  return ticks === NO_PRICE ? null : fromUnits(ticks, tickSize);
}

export function fillsTable(sc: Scenario, runners: readonly StrategyRunner[]): Table {
  const horizons = MARKOUT_HORIZONS_NS.map((h) => `markout${h / 1e9}s`);
  const columns = ['strategy', 'seq', 'ts', 'time', 'instrument', 'clOrdId', 'orderId', 'tradeId', 'side', 'liquidity', 'price', 'size', 'notional', 'fee', 'position', 'mid', 'queueMs', 'queueAtEntry', 'replayLiquidity', ...horizons];
  const rows: Cell[][] = [];
  for (const r of runners) {
    const x = r.record.moneyExponent;
    for (const f of r.record.fills) {
      const ins = sc.instruments[f.instrument]!;
      rows.push([
        r.spec.name,
        f.seq,
        f.tsNs,
        formatNs(f.tsNs, sc.sessionDate),
        ins.symbol,
        f.clOrdId,
        f.orderId,
        f.tradeId,
        SIDE_NAME[f.side],
        f.maker ? 'maker' : 'taker',
        fromUnits(f.priceTicks, ins.tickSize),
        fromUnits(f.sizeLots, ins.lotSize),
        money(f.notionalMinor, x),
        money(f.feeMinor, x),
        fromUnits(f.positionAfterLots, ins.lotSize),
        f.mid2AtFill === NO_PRICE ? null : halfTickPrice(f.mid2AtFill, ins.tickSize),
        f.queueNs < 0 ? null : (f.queueNs / 1e6).toFixed(3),
        f.queueAtEntryLots < 0 ? null : fromUnits(f.queueAtEntryLots, ins.lotSize),
        f.replayLiquidity === 0 ? null : FILL_LIQUIDITY_NAME[f.replayLiquidity],
        ...f.markoutMinor.map((m) => (m === null ? null : money(m, x))),
      ]);
    }
  }
  return { columns, rows, numeric: new Set(['queueMs']) };
}

export function ordersTable(sc: Scenario, runners: readonly StrategyRunner[]): Table {
  const columns = ['strategy', 'clOrdId', 'orderId', 'instrument', 'side', 'type', 'tif', 'postOnly', 'price', 'stopPrice', 'size', 'filled', 'fills', 'status', 'reason', 'tag', 'submitTs', 'arriveTs', 'doneTs', 'restedMs', 'modifies', 'cancelsSent'];
  const rows: Cell[][] = [];
  for (const r of runners) {
    for (const o of r.record.orders) {
      const ins = sc.instruments[o.instrument]!;
      rows.push([
        r.spec.name,
        o.clOrdId,
        o.orderId,
        ins.symbol,
        SIDE_NAME[o.side],
        ORDER_TYPE_NAME[o.orderType] ?? String(o.orderType),
        TIF_NAME[o.tif] ?? String(o.tif),
        o.postOnly,
        o.priceTicks > 0 ? fromUnits(o.priceTicks, ins.tickSize) : null,
        o.stopPriceTicks > 0 ? fromUnits(o.stopPriceTicks, ins.tickSize) : null,
        Number.isSafeInteger(o.sizeLots) && o.sizeLots > 0 ? fromUnits(o.sizeLots, ins.lotSize) : String(o.sizeLots),
        fromUnits(o.filledLots, ins.lotSize),
        o.fills,
        o.status,
        o.reason,
        o.tag,
        o.submitNs,
        o.arriveNs < 0 ? null : o.arriveNs,
        o.doneNs < 0 ? null : o.doneNs,
        o.queueSinceNs < 0 ? null : (o.restedNs / 1e6).toFixed(3),
        o.modifies,
        o.cancelsSent,
      ]);
    }
  }
  return { columns, rows, numeric: new Set(['restedMs']) };
}

export function equityTable(sc: Scenario, runners: readonly StrategyRunner[]): Table {
  const columns = ['strategy', 'ts', 'time', 'equity', 'realized', 'unrealized', 'fees', 'instrument', 'position', 'bid', 'ask', 'bidSize', 'askSize', 'bidDepth5', 'askDepth5'];
  const rows: Cell[][] = [];
  for (const r of runners) {
    const x = r.record.moneyExponent;
    for (const s of r.record.samples) {
      r.spec.instruments.forEach((i, j) => {
        const ins = sc.instruments[i]!;
        rows.push([
          r.spec.name,
          s.tsNs,
          formatNs(s.tsNs, sc.sessionDate),
          money(s.equityMinor, x),
          money(s.realizedMinor, x),
          money(s.unrealizedMinor, x),
          money(s.feesMinor, x),
          ins.symbol,
          fromUnits(s.positionLots[j]!, ins.lotSize),
          px(s.bidTicks[j]!, ins.tickSize),
          px(s.askTicks[j]!, ins.tickSize),
          fromUnits(s.bidLots[j]!, ins.lotSize),
          fromUnits(s.askLots[j]!, ins.lotSize),
          fromUnits(s.bidDepthLots[j]!, ins.lotSize),
          fromUnits(s.askDepthLots[j]!, ins.lotSize),
        ]);
      });
    }
  }
  return { columns, rows };
}

/** Metrics rows may have different keys (instruments, parent orders): the union, in first-seen order. */
export function metricsTable(rows: readonly Record<string, string>[]): Table {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return { columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)), numeric: new Set(columns.filter(isNumericMetric)) };
}

export function writeTable(dir: string, base: string, t: Table): void {
  writeFileSync(join(dir, `${base}.csv`), toCsv(t));
  writeFileSync(join(dir, `${base}.ndjson`), toNdjson(t));
}
