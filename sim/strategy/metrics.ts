import { fromUnits } from '../../engine/decimal.js';
import { Side } from '../../engine/types.js';
import { InvariantError } from '../../engine/assert.js';
import { MARKOUT_HORIZONS_NS, MINOR_EXPONENT, divRoundHalfAway, type BacktestRecord } from './record.js';

/**
 * The backtest's figures for one strategy, computed from its venue-truth
 * record. Money stays integer minor units; only ratios and statistics
 * (Sharpe, Sortino, fill ratio, means) are floats, and they leave this module
 * as strings with fixed decimals so every output is byte-identical run to run.
 *
 * Sharpe and Sortino: the equity curve is sampled every `sampleNs` of virtual
 * time from the open to the close; the returns are the changes of equity
 * (P&L, in money) between consecutive samples. Because both ratios divide a
 * mean by a dispersion of the same series, the capital the P&L is measured
 * against cancels out and is not needed. Annualised by sqrt(periods per year)
 * with 252 sessions a year, each of (close - open) / sampleNs periods.
 * Sortino's downside deviation is sqrt(mean(min(r, 0)^2)) over all periods.
 */
export const TRADING_DAYS_PER_YEAR = 252;
export const RATIO_DECIMALS = 4;

export interface StrategyMetrics {
  strategy: string;
  /** Decimals of the money figures: the account currency's minor units (2 without a back office). */
  moneyExponent: number;
  pnlMinor: number;
  realizedMinor: number;
  unrealizedMinor: number;
  feesMinor: number;
  sharpe: number | null;
  sortino: number | null;
  samples: number;
  sampleNs: number;
  maxDrawdownMinor: number;
  turnoverMinor: number;
  orders: number;
  ordersFilled: number;
  ordersRejected: number;
  ordersCancelled: number;
  fills: number;
  makerFills: number;
  takerFills: number;
  submittedLots: number;
  filledLots: number;
  fillRatio: number | null;
  queueMeanNs: number | null;
  queueMedianNs: number | null;
  restedMeanNs: number | null;
  inventory: { symbol: string; finalLots: number; minLots: number; maxLots: number; meanLots: number; meanAbsLots: number }[];
  markoutMinor: (number | null)[];
  markoutPerLotMinor: (number | null)[];
  shortfall: { symbol: string; side: string; targetLots: number; filledLots: number; arrivalPrice: string; avgFillPrice: string | null; shortfallMinor: number; shortfallBps: number | null }[];
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.floor((s[m - 1]! + s[m]!) / 2);
}

export function computeMetrics(name: string, r: BacktestRecord, instruments: readonly number[], sessionNs: number, sampleNs: number): StrategyMetrics {
  const eq = r.equityMinor();
  const samples = r.samples;
  // Returns between samples.
  const rets: number[] = [];
  for (let k = 1; k < samples.length; k++) rets.push(samples[k]!.equityMinor - samples[k - 1]!.equityMinor);
  let sharpe: number | null = null;
  let sortino: number | null = null;
  if (rets.length >= 2) {
    const n = rets.length;
    const mean = rets.reduce((a, b) => a + b, 0) / n;
    const variance = rets.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1);
    const downside = Math.sqrt(rets.reduce((a, b) => a + (b < 0 ? b * b : 0), 0) / n);
    const annual = Math.sqrt(TRADING_DAYS_PER_YEAR * (sessionNs / sampleNs));
    const sd = Math.sqrt(variance);
    sharpe = sd > 0 ? (mean / sd) * annual : null;
    sortino = downside > 0 ? (mean / downside) * annual : null;
  }
  let peak = 0;
  let maxDd = 0;
  for (const s of samples) {
    if (s.equityMinor > peak) peak = s.equityMinor;
    if (peak - s.equityMinor > maxDd) maxDd = peak - s.equityMinor;
  }
  let turnover = 0;
  let makerFills = 0;
  let filledLots = 0;
  const queue: number[] = [];
  // Per horizon and instrument: the exact sum in 1 / (2 den) minor units.
  const markScaled: number[][] = MARKOUT_HORIZONS_NS.map(() => r.instruments.map(() => 0));
  const markLots: number[] = MARKOUT_HORIZONS_NS.map(() => 0);
  for (const f of r.fills) {
    turnover += f.notionalMinor;
    filledLots += f.sizeLots;
    if (f.maker) {
      makerFills++;
      if (f.queueNs >= 0) queue.push(f.queueNs);
    }
    f.markoutScaled.forEach((m, h) => {
      if (m === null) return;
      markScaled[h]![f.instrument]! += m;
      markLots[h]! += f.sizeLots;
    });
  }
  let submittedLots = 0;
  let filled = 0;
  let rejected = 0;
  let cancelled = 0;
  const rested: number[] = [];
  for (const o of r.orders) {
    submittedLots += o.sizeLots;
    if (o.filledLots > 0) filled++;
    if (o.status === 'rejected') rejected++;
    if (o.status === 'cancelled') cancelled++;
    if (o.queueSinceNs >= 0 && o.doneNs >= 0) rested.push(o.restedNs);
  }
  const inventory = instruments.map((i, j) => {
    let min = 0;
    let max = 0;
    let sum = 0;
    let sumAbs = 0;
    for (const s of samples) {
      const p = s.positionLots[j]!;
      if (p < min) min = p;
      if (p > max) max = p;
      sum += p;
      sumAbs += Math.abs(p);
    }
    const n = Math.max(samples.length, 1);
    return { symbol: r.instruments[i]!.symbol, finalLots: r.position(i), minLots: min, maxLots: max, meanLots: sum / n, meanAbsLots: sumAbs / n };
  });
  const shortfall = r.parents.map((p) => {
    const i = p.instrument;
    let paid = 0;
    let lots = 0;
    let fees = 0;
    for (const f of r.fills) {
      if (f.instrument !== i || f.side !== p.side || f.tsNs < p.startNs) continue;
      paid += f.notionalMinor;
      lots += f.sizeLots;
      fees += f.feeMinor;
    }
    const s = p.side === Side.Buy ? 1 : -1;
    // Execution cost against the arrival mid, plus fees, plus the unfilled rest valued at the move to the final mark.
    const exec = s * (paid - r.notional2(i, p.arrival2, lots)) + fees;
    const unfilled = Math.max(0, p.sizeLots - lots);
    const opportunity = s * (r.notional2(i, r.mark2(i), unfilled) - r.notional2(i, p.arrival2, unfilled));
    const total = exec + opportunity;
    const arrivalNotional = r.notional2(i, p.arrival2, p.sizeLots);
    const ins = r.instruments[i]!;
    return {
      symbol: ins.symbol,
      side: s > 0 ? 'buy' : 'sell',
      targetLots: p.sizeLots,
      filledLots: lots,
      arrivalPrice: halfTickPrice(p.arrival2, ins.tickSize),
      avgFillPrice: lots > 0 ? avgPrice(paid, lots, r.num[i]!, r.den[i]!, ins.tickSize) : null,
      shortfallMinor: total,
      shortfallBps: arrivalNotional > 0 ? (total / arrivalNotional) * 10_000 : null,
    };
  });
  const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const markouts = markScaled.map((byInstrument) => exactSum(byInstrument, r.den));
  return {
    strategy: name,
    moneyExponent: r.moneyExponent,
    pnlMinor: eq.equityMinor,
    realizedMinor: eq.realizedMinor,
    unrealizedMinor: eq.unrealizedMinor,
    feesMinor: eq.feesMinor,
    sharpe,
    sortino,
    samples: samples.length,
    sampleNs,
    maxDrawdownMinor: maxDd,
    turnoverMinor: turnover,
    orders: r.orders.length,
    ordersFilled: filled,
    ordersRejected: rejected,
    ordersCancelled: cancelled,
    fills: r.fills.length,
    makerFills,
    takerFills: r.fills.length - makerFills,
    submittedLots,
    filledLots,
    fillRatio: submittedLots > 0 ? filledLots / submittedLots : null,
    queueMeanNs: mean(queue),
    queueMedianNs: median(queue),
    restedMeanNs: mean(rested),
    inventory,
    // Rounded once, from the exact sum (the per-fill values in fills.csv are each rounded).
    markoutMinor: markouts.map((m, h) => (markLots[h]! > 0 ? divRoundHalfAway(m.num, m.den) : null)),
    markoutPerLotMinor: markouts.map((m, h) => (markLots[h]! > 0 ? m.num / m.den / markLots[h]! : null)),
    shortfall,
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Sum of scaled[i] / (2 den[i]) minor units as one fraction num / den over the instruments' common denominator. */
export function exactSum(scaled: readonly number[], den: readonly number[]): { num: number; den: number } {
  let l = 1;
  scaled.forEach((x, i) => {
    if (x !== 0) l = (l / gcd(l, 2 * den[i]!)) * 2 * den[i]!;
  });
  let num = 0;
  scaled.forEach((x, i) => {
    if (x !== 0) num += x * (l / (2 * den[i]!));
  });
  if (!Number.isSafeInteger(num)) throw new InvariantError(`mark-out total is not a safe integer (${num} / ${l})`);
  return { num, den: l };
}

/** Price of a doubled tick count: exact, with one more decimal when it falls on a half tick. */
export function halfTickPrice(price2: number, tickSize: string): string {
  const whole = fromUnits(Math.floor(price2 / 2), tickSize);
  if (price2 % 2 === 0) return whole;
  // x.5 ticks: print tick * price2 / 2 with one extra digit.
  const scale = tickSize.includes('.') ? tickSize.split('.')[1]!.length : 0;
  const unit = Number(tickSize.replace('.', ''));
  const v = price2 * unit * 5; // price * 10^(scale+1)
  const s = String(v).padStart(scale + 2, '0');
  return `${s.slice(0, s.length - scale - 1)}.${s.slice(s.length - scale - 1)}`;
}

/** Volume-weighted average fill price for display (paid is exact; the division is only for showing). */
function avgPrice(paidMinor: number, lots: number, num: number, den: number, tickSize: string): string {
  const ticks = (paidMinor * den) / (num * lots);
  const scale = tickSize.includes('.') ? tickSize.split('.')[1]!.length : 0;
  return (ticks * Number(tickSize)).toFixed(scale + 2);
}

export function money(minor: number, exponent: number = MINOR_EXPONENT): string {
  return exponent === 0 ? String(minor) : fromUnits(minor, (10 ** -exponent).toFixed(exponent));
}

export function fixed(x: number | null, decimals = RATIO_DECIMALS): string {
  return x === null || !Number.isFinite(x) ? '' : x.toFixed(decimals);
}

/** Metric columns that stay text in metrics.ndjson: names, and money and prices as exact decimal strings. */
const TEXT_METRIC = /^(?:strategy|pnl|realized|unrealized|fees|maxDrawdown|turnover|markout\d+s|shortfall\d*|shortfall\d*\.(?:instrument|side|arrivalPrice|avgFillPrice))$/;

/** Whether a column of metricsRow is a count or a statistic (a JSON number in metrics.ndjson). */
export function isNumericMetric(column: string): boolean {
  return !TEXT_METRIC.test(column);
}

/** One flat row of strings per strategy: metrics.csv, metrics.ndjson, summary.json and sweep.csv use it. */
export function metricsRow(m: StrategyMetrics): Record<string, string> {
  const x = m.moneyExponent;
  const row: Record<string, string> = {
    strategy: m.strategy,
    pnl: money(m.pnlMinor, x),
    realized: money(m.realizedMinor, x),
    unrealized: money(m.unrealizedMinor, x),
    fees: money(m.feesMinor, x),
    sharpe: fixed(m.sharpe),
    sortino: fixed(m.sortino),
    sampleMs: String(m.sampleNs / 1e6),
    samples: String(m.samples),
    maxDrawdown: money(m.maxDrawdownMinor, x),
    turnover: money(m.turnoverMinor, x),
    orders: String(m.orders),
    ordersFilled: String(m.ordersFilled),
    ordersRejected: String(m.ordersRejected),
    ordersCancelled: String(m.ordersCancelled),
    fills: String(m.fills),
    makerFills: String(m.makerFills),
    takerFills: String(m.takerFills),
    submittedLots: String(m.submittedLots),
    filledLots: String(m.filledLots),
    fillRatio: fixed(m.fillRatio),
    queueMeanMs: fixed(m.queueMeanNs === null ? null : m.queueMeanNs / 1e6, 3),
    queueMedianMs: fixed(m.queueMedianNs === null ? null : m.queueMedianNs / 1e6, 3),
    restedMeanMs: fixed(m.restedMeanNs === null ? null : m.restedMeanNs / 1e6, 3),
  };
  for (const inv of m.inventory) {
    row[`inventory.${inv.symbol}.final`] = String(inv.finalLots);
    row[`inventory.${inv.symbol}.min`] = String(inv.minLots);
    row[`inventory.${inv.symbol}.max`] = String(inv.maxLots);
    row[`inventory.${inv.symbol}.mean`] = fixed(inv.meanLots, 2);
    row[`inventory.${inv.symbol}.meanAbs`] = fixed(inv.meanAbsLots, 2);
  }
  MARKOUT_HORIZONS_NS.forEach((h, k) => {
    const label = `${h / 1e9}s`;
    row[`markout${label}`] = m.markoutMinor[k] === null ? '' : money(m.markoutMinor[k]!, x);
    row[`markout${label}PerLot`] = fixed(m.markoutPerLotMinor[k] === null ? null : m.markoutPerLotMinor[k]! / 10 ** x, 6);
  });
  m.shortfall.forEach((s, k) => {
    const p = m.shortfall.length === 1 ? 'shortfall' : `shortfall${k}`;
    row[`${p}.instrument`] = s.symbol;
    row[`${p}.side`] = s.side;
    row[`${p}.targetLots`] = String(s.targetLots);
    row[`${p}.filledLots`] = String(s.filledLots);
    row[`${p}.arrivalPrice`] = s.arrivalPrice;
    row[`${p}.avgFillPrice`] = s.avgFillPrice ?? '';
    row[`${p}`] = money(s.shortfallMinor, x);
    row[`${p}Bps`] = fixed(s.shortfallBps, 2);
  });
  return row;
}
