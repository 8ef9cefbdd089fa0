import { NO_PRICE, Side } from '../../engine/types.js';
import type { Scenario } from '../scenario.js';
import { formatNs } from '../scenario-time.js';
import { MINOR_EXPONENT } from './record.js';
import type { StrategyRunner } from './runner.js';

/**
 * DIR/report.html: one self-contained file (inline CSS and SVG, no script, no
 * network) that opens offline. Per strategy: equity, inventory, price with the
 * strategy's own fills, spread, and depth over time, then the metrics table.
 * Long series are reduced to min/max per pixel column so the shape survives.
 * Coordinates are printed with one decimal: the file is byte-identical run to run.
 */
const W = 900;
const H = 220;
const PAD_L = 70;
const PAD_R = 10;
const PAD_T = 24;
const PAD_B = 28;
/** Fill markers drawn per chart; beyond this, every k-th fill. */
export const REPORT_FILLS_MAX = 4000;

interface Series {
  name: string;
  color: string;
  /** [timeNs, value]; NaN values break the line. */
  points: [number, number][];
}

interface Marker {
  t: number;
  v: number;
  color: string;
  title: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function f1(x: number): string {
  return x.toFixed(1);
}

/** Min and max per pixel column, in time order: keeps spikes that plain striding would drop. */
function reduce(points: [number, number][], t0: number, t1: number, columns: number): [number, number][] {
  if (points.length <= columns * 2) return points;
  const out: [number, number][] = [];
  let col = -1;
  let lo: [number, number] | null = null;
  let hi: [number, number] | null = null;
  const flush = () => {
    if (lo && hi) {
      if (lo[0] <= hi[0]) out.push(lo, hi);
      else out.push(hi, lo);
      if (lo === hi) out.pop();
    }
  };
  for (const p of points) {
    const c = Math.floor(((p[0] - t0) / Math.max(t1 - t0, 1)) * columns);
    if (c !== col) {
      flush();
      col = c;
      lo = hi = null;
    }
    if (Number.isNaN(p[1])) continue;
    if (lo === null || p[1] < lo[1]) lo = p;
    if (hi === null || p[1] > hi[1]) hi = p;
  }
  flush();
  return out;
}

function chart(id: string, title: string, t0: number, t1: number, series: Series[], markers: Marker[], fmt: (v: number) => string, sessionDate: string): string {
  const plotW = W - PAD_L - PAD_R;
  const plotH = H - PAD_T - PAD_B;
  const reduced = series.map((s) => ({ ...s, points: reduce(s.points, t0, t1, plotW) }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of reduced) for (const [, v] of s.points) if (!Number.isNaN(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  for (const m of markers) ((lo = Math.min(lo, m.v)), (hi = Math.max(hi, m.v)));
  if (!Number.isFinite(lo)) ((lo = 0), (hi = 1));
  if (hi === lo) ((hi += 1), (lo -= 1));
  const x = (t: number) => PAD_L + ((t - t0) / Math.max(t1 - t0, 1)) * plotW;
  const y = (v: number) => PAD_T + (1 - (v - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<figure><figcaption>${esc(title)}</figcaption>`);
  parts.push(`<svg class="chart" data-chart="${esc(id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<rect x="${PAD_L}" y="${PAD_T}" width="${plotW}" height="${plotH}" class="plot"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<line x1="${PAD_L}" x2="${W - PAD_R}" y1="${f1(y(v))}" y2="${f1(y(v))}" class="grid"/><text x="${PAD_L - 4}" y="${f1(y(v) + 4)}" class="ylab">${esc(fmt(v))}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const t = Math.round(t0 + ((t1 - t0) * k) / 4);
    // The last label ends at the right edge instead of being cut by it.
    parts.push(`<text x="${f1(x(t))}" y="${H - 8}" class="xlab"${k === 4 ? ' style="text-anchor:end"' : ''}>${esc(formatNs(t, sessionDate).slice(0, 8))}</text>`);
  }
  for (const s of reduced) {
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (Number.isNaN(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${f1(x(t))} ${f1(y(v))}`;
      pen = true;
    }
    parts.push(`<path class="series" data-series="${esc(s.name)}" stroke="${s.color}" d="${d}"><title>${esc(s.name)}</title></path>`);
  }
  for (const m of markers) parts.push(`<circle class="fill-marker" cx="${f1(x(m.t))}" cy="${f1(y(m.v))}" r="3" fill="${m.color}"><title>${esc(m.title)}</title></circle>`);
  parts.push(`<g class="legend">`);
  reduced.forEach((s, k) => parts.push(`<text x="${PAD_L + 8 + k * 140}" y="${PAD_T - 8}" fill="${s.color}">${esc(s.name)}</text>`));
  parts.push(`</g></svg></figure>`);
  return parts.join('');
}

export function buildReport(sc: Scenario, runners: readonly StrategyRunner[], metricRows: readonly Record<string, string>[]): string {
  const t0 = sc.openNs;
  const t1 = sc.closeNs;
  const body: string[] = [];
  // With several strategies, chart ids carry the strategy's name so each is unique in the page.
  const idOf = (r: StrategyRunner, id: string) => (runners.length > 1 ? `${r.spec.name}/${id}` : id);
  // Spread and depth are the venue's, the same for every strategy: drawn once per instrument.
  const venueCharted = new Set<number>();
  runners.forEach((r, k) => {
    const samples = r.record.samples;
    const unit = 10 ** r.record.moneyExponent;
    const rowsOf = metricRows[k] ?? {};
    body.push(`<section class="strategy" data-strategy="${esc(r.spec.name)}"><h2>${esc(r.spec.name)} <small>${esc(r.spec.module)}</small></h2>`);
    body.push(
      chart(
        idOf(r, 'equity'),
        r.record.venue === null ? 'Equity (P&L: realized + unrealized at mid − fees)' : 'Equity (the account\'s P&L: realized + unrealized at the venue\'s marks − fees)',
        t0,
        t1,
        [{ name: 'equity', color: '#1f77b4', points: samples.map((s) => [s.tsNs, s.equityMinor / unit]) }],
        [],
        (v) => v.toFixed(2),
        sc.sessionDate,
      ),
    );
    const colors = ['#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];
    body.push(
      chart(
        idOf(r, 'inventory'),
        'Inventory (lots)',
        t0,
        t1,
        r.spec.instruments.map((i, j) => ({ name: sc.instruments[i]!.symbol, color: colors[j % colors.length]!, points: samples.map((s) => [s.tsNs, s.positionLots[j]!] as [number, number]) })),
        [],
        (v) => v.toFixed(0),
        sc.sessionDate,
      ),
    );
    r.spec.instruments.forEach((i, j) => {
      const ins = sc.instruments[i]!;
      const tick = Number(ins.tickSize);
      const dec = ins.tickSize.includes('.') ? ins.tickSize.split('.')[1]!.length : 0;
      const price = (ticks: number) => (ticks === NO_PRICE ? NaN : ticks * tick);
      const mid = samples.map((s): [number, number] => [s.tsNs, s.bidTicks[j] === NO_PRICE || s.askTicks[j] === NO_PRICE ? NaN : ((s.bidTicks[j]! + s.askTicks[j]!) / 2) * tick]);
      const fills = r.record.fills.filter((f) => f.instrument === i);
      const step = Math.max(1, Math.ceil(fills.length / REPORT_FILLS_MAX));
      const markers: Marker[] = [];
      for (let q = 0; q < fills.length; q += step) {
        const f = fills[q]!;
        markers.push({
          t: f.tsNs,
          v: f.priceTicks * tick,
          color: f.side === Side.Buy ? '#2ca02c' : '#d62728',
          title: `${f.side === Side.Buy ? 'buy' : 'sell'} ${f.sizeLots} @ ${(f.priceTicks * tick).toFixed(dec)} (${f.maker ? 'maker' : 'taker'}) ${formatNs(f.tsNs, sc.sessionDate)}`,
        });
      }
      body.push(
        chart(
          idOf(r, `price-${ins.symbol}`),
          `${ins.symbol}: mid, bid and ask with the strategy's fills (green buy, red sell${step > 1 ? `, every ${step}th fill` : ''})`,
          t0,
          t1,
          [
            { name: 'bid', color: '#9ecae1', points: samples.map((s) => [s.tsNs, price(s.bidTicks[j]!)]) },
            { name: 'ask', color: '#fdae6b', points: samples.map((s) => [s.tsNs, price(s.askTicks[j]!)]) },
            { name: 'mid', color: '#333333', points: mid },
          ],
          markers,
          (v) => v.toFixed(dec),
          sc.sessionDate,
        ),
      );
      if (venueCharted.has(i)) return;
      venueCharted.add(i);
      body.push(
        chart(
          `spread-${ins.symbol}`,
          `${ins.symbol}: spread (ticks)`,
          t0,
          t1,
          [{ name: 'spread', color: '#ff7f0e', points: samples.map((s) => [s.tsNs, s.bidTicks[j] === NO_PRICE || s.askTicks[j] === NO_PRICE ? NaN : s.askTicks[j]! - s.bidTicks[j]!]) }],
          [],
          (v) => v.toFixed(1),
          sc.sessionDate,
        ),
      );
      body.push(
        chart(
          `depth-${ins.symbol}`,
          `${ins.symbol}: depth in the best 5 levels (lots)`,
          t0,
          t1,
          [
            { name: 'bid depth', color: '#2ca02c', points: samples.map((s) => [s.tsNs, s.bidDepthLots[j]!]) },
            { name: 'ask depth', color: '#d62728', points: samples.map((s) => [s.tsNs, s.askDepthLots[j]!]) },
          ],
          [],
          (v) => v.toFixed(0),
          sc.sessionDate,
        ),
      );
    });
    body.push('<table class="metrics"><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>');
    for (const [key, v] of Object.entries(rowsOf)) body.push(`<tr><td>${esc(key)}</td><td>${esc(v)}</td></tr>`);
    body.push('</tbody></table></section>');
  });
  const css = `body{font:14px system-ui,sans-serif;margin:20px;color:#222}h1{font-size:20px}h2{font-size:17px;margin-top:28px}small{color:#777;font-weight:normal}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:2px}.plot{fill:#fafafa;stroke:#ccc}.grid{stroke:#eee}
.series{fill:none;stroke-width:1.3}.ylab{font-size:10px;text-anchor:end;fill:#555}.xlab{font-size:10px;text-anchor:middle;fill:#555}.legend text{font-size:11px}
table.metrics{border-collapse:collapse;margin-top:10px}table.metrics td,table.metrics th{border:1px solid #ddd;padding:3px 8px;text-align:left}table.metrics td+td{text-align:right;font-variant-numeric:tabular-nums}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(sc.name)} backtest report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${css}</style></head><body>
<h1>${esc(sc.name)} <small>seed ${sc.seed}, ${esc(sc.sessionDate)} ${esc(formatNs(sc.openNs))}–${esc(formatNs(sc.closeNs))}; money in ${MINOR_EXPONENT}-decimal currency units</small></h1>
${body.join('\n')}
</body></html>
`;
}
