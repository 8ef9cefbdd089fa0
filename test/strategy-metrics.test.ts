import { describe, expect, it } from 'vitest';
import type { Instrument } from '../engine/instrument.js';
import { Side } from '../engine/types.js';
import { computeMetrics, metricsRow } from '../sim/strategy/metrics.js';
import { metricsTable, toNdjson } from '../sim/strategy/outputs.js';
import { BacktestRecord, divRoundHalfAway, type SampleRecord } from '../sim/strategy/record.js';

/**
 * The metrics on a small record whose figures are worked out by hand below (tick 0.01, lot 1,
 * so a tick-lot is one cent and a half tick half a cent): Sharpe and Sortino on a known equity
 * series, mark-outs whose mids fall on half ticks, and a parent order's shortfall.
 */
const ACME: Instrument = { index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 0 };
const S = 1_000_000_000;

function sample(tsNs: number, equityMinor: number, positionLots: number): SampleRecord {
  return { tsNs, equityMinor, realizedMinor: 0, unrealizedMinor: 0, feesMinor: 0, bidTicks: [0], askTicks: [0], bidLots: [0], askLots: [0], bidDepthLots: [0], askDepthLots: [0], positionLots: [positionLots] };
}

function fill(r: BacktestRecord, k: number, tsNs: number, side: Side, priceTicks: number, sizeLots: number) {
  return r.addFill({ seq: k, tsNs, instrument: 0, clOrdId: k, orderId: k, tradeId: k, side, priceTicks, sizeLots, maker: false, queueNs: -1, replayLiquidity: 0, queueAtEntryLots: -1 });
}

describe('strategy metrics, by hand', () => {
  it('Sharpe, Sortino and inventory on a known equity series', () => {
    const r = new BacktestRecord([ACME], [{ makerBps: 0, takerBps: 0 }]);
    // Equity 0, 1.00, 0.50, 2.50, 2.00: returns 100, -50, 200, -50 cents.
    [0, 100, 50, 250, 200].forEach((e, k) => r.samples.push(sample(k * S, e, [0, 1, 2, 1, -1][k]!)));
    const m = computeMetrics('t', r, [0], 4 * S, S);
    // mean 50; sample variance (50² + 100² + 150² + 100²) / 3 = 15000; 4 periods a session:
    // Sharpe = 50 / sqrt(15000) * sqrt(252 * 4) = 12.9615.
    // Downside deviation sqrt((50² + 50²) / 4) = sqrt(1250); Sortino = 50 / sqrt(1250) * sqrt(1008) = 44.8999.
    expect(m.sharpe).toBeCloseTo((50 / Math.sqrt(15000)) * Math.sqrt(1008), 12);
    const row = metricsRow(m);
    expect(row['sharpe']).toBe('12.9615');
    expect(row['sortino']).toBe('44.8999');
    expect(row['maxDrawdown']).toBe('0.50');
    // Positions 0, 1, 2, 1, -1: mean 0.6, mean |p| 1.0, min -1, max 2.
    expect([row['inventory.ACME.mean'], row['inventory.ACME.meanAbs'], row['inventory.ACME.min'], row['inventory.ACME.max']]).toEqual(['0.60', '1.00', '-1', '2']);
  });

  it('mark-outs are summed exactly on half-tick mids and rounded once; shortfall against the arrival mid', () => {
    // Taker fee 1 bp, rounded up to the cent: 1 cent on a 100.01 fill is ceil(1.0001) = 2 cents.
    const r = new BacktestRecord([ACME], [{ makerBps: 0, takerBps: 1 }]);
    r.onQuote(0, 0, 10_000, 5, 10_001, 5); // mid 100.005
    r.parents.push({ instrument: 0, side: Side.Buy, sizeLots: 4, startNs: 0, arrival2: 20_001 });
    fill(r, 1, 0, Side.Buy, 10_001, 1); // A
    fill(r, 2, 0, Side.Buy, 10_001, 1); // B
    r.onQuote(S / 2, 0, 10_001, 5, 10_002, 5); // mid 100.015
    fill(r, 3, S / 2, Side.Sell, 10_000, 1); // C
    r.onQuote(2 * S, 0, 10_002, 5, 10_003, 5); // mid 100.025, until the end
    r.finish();
    // 1 s: A and B see mid 100.015 at 1 s: +0.5 cent each; C sees it at 1.5 s: 100.00 - 100.015 = -1.5 cents.
    // Exact total -0.5 cent, rounded once (half away from zero) to -1 cent; per lot -0.5 / 3 cents.
    // 10 s and 60 s: past the last event, the last mid 100.025: A, B +1.5 cents each, C -2.5: total +0.5 -> +1 cent.
    const m = computeMetrics('t', r, [0], 60 * S, S);
    const row = metricsRow(m);
    expect([row['markout1s'], row['markout1sPerLot']]).toEqual(['-0.01', '-0.001667']);
    expect([row['markout10s'], row['markout10sPerLot']]).toEqual(['0.01', '0.001667']);
    expect([row['markout60s'], row['markout60sPerLot']]).toEqual(['0.01', '0.001667']);
    // Each fill's own figure is rounded half away from zero; their sum (1 + 1 - 2 = 0) is not the total.
    expect(r.fills.map((f) => f.markoutMinor[0])).toEqual([1, 1, -2]);
    expect(r.fills.map((f) => f.markoutMinor[1])).toEqual([2, 2, -3]);
    // Shortfall of the 4-lot buy: paid 2 x 100.01 = 200.02 vs 2 x 100.005 = 200.01 at the arrival mid (+1 cent),
    // fees 2 x 2 cents, and the 2 unfilled lots at the move to the final mark 100.025: 2 x 0.02 = 4 cents.
    // Total 9 cents; in bps of the arrival notional 400.02: 9 / 40002 x 10^4 = 2.25 bp.
    expect(row['shortfall']).toBe('0.09');
    expect(row['shortfallBps']).toBe('2.25');
    expect([row['shortfall.targetLots'], row['shortfall.filledLots'], row['shortfall.arrivalPrice'], row['shortfall.avgFillPrice']]).toEqual(['4', '2', '100.005', '100.0100']);
    // Fees: 2 + 2 cents on A and B, and exactly 1 cent (1 bp of 100.00) on C.
    expect(row['fees']).toBe('0.05');
    // metrics.ndjson: money and prices stay decimal strings, counts and statistics become numbers.
    const nd = JSON.parse(toNdjson(metricsTable([row]))) as Record<string, unknown>;
    expect([nd['shortfall'], nd['shortfall.arrivalPrice'], nd['shortfall.instrument'], nd['markout1s'], nd['fees']]).toEqual(['0.09', '100.005', 'ACME', '-0.01', '0.05']);
    expect([nd['shortfallBps'], nd['shortfall.targetLots'], nd['markout1sPerLot'], nd['fills'], nd['sharpe']]).toEqual([2.25, 4, -0.001667, 3, null]);
  });

  it('rounds halves away from zero, the same for gains and losses', () => {
    expect([5, -5, 15, -15, 4, -4, 6, -6].map((n) => divRoundHalfAway(n, 10))).toEqual([1, -1, 2, -2, 0, -0, 1, -1]);
  });
});
