import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../sim/run.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { StrategyError } from '../sim/strategy/errors.js';
import { runSweep } from '../sim/sweep.js';
import { UserError } from '../sim/errors.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-backtest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A small scenario around one strategy module; written beside the test fixtures so relative paths resolve. */
function scenarioWith(strategy: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const raw = {
    name: 'bt-test',
    seed: 5,
    session: { date: '2026-01-05', open: '09:30:00', close: '09:33:00' },
    instruments: [{ symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePrice: '100.00' }],
    accounts: [{ id: 'zi' }, { id: 'me' }],
    feeds: [{ type: 'synthetic', instrument: 'ACME', account: 'zi', orders: 600, rates: { limit: 5, cancel: 3, market: 1 }, volatilityTicks: 0.5, depthTicks: 10, size: { min: '1', max: '10' } }],
    strategies: [{ account: 'me', ...strategy }],
    ...extra,
  };
  const file = join(root, 'test', 'fixtures-strategies', `scenario-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

const files: string[] = [];
afterAll(() => files.forEach((f) => rmSync(f, { force: true })));
function load(strategy: Record<string, unknown>, extra?: Record<string, unknown>) {
  const f = scenarioWith(strategy, extra);
  files.push(f);
  return loadScenario(f);
}

describe('strategies in a run', () => {
  it('market data, order entry and acks arrive after their latencies, in order', async () => {
    const sc = load({
      module: './probe.ts',
      latency: { feed: { type: 'constant', ns: 50_000 }, order: { type: 'constant', ns: 200_000 }, ack: { type: 'constant', ns: 70_000 } },
      fees: { makerBps: -0.2, takerBps: 1 },
    });
    const r = await runScenario({ scenario: sc, outDir: join(work, 'probe'), feedThread: 'inline', outputThread: 'inline', audit: false });
    const fills = readFileSync(join(work, 'probe', 'fills.csv'), 'utf8').trim().split('\n');
    const orders = readFileSync(join(work, 'probe', 'orders.csv'), 'utf8').trim().split('\n');
    expect(orders.length).toBe(2);
    const cols = orders[0]!.split(',');
    const o = orders[1]!.split(',');
    const submitTs = Number(o[cols.indexOf('submitTs')]);
    const arriveTs = Number(o[cols.indexOf('arriveTs')]);
    expect(arriveTs - submitTs).toBe(200_000);
    // The strategy submitted on a quote it saw 50 us after the venue published it.
    const events = readFileSync(join(work, 'probe', 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const quoteTs = events.filter((e) => e['type'] === 'quote' && e['askPrice'] !== null).map((e) => e['ts'] as number);
    expect(quoteTs).toContain(submitTs - 50_000);
    expect(fills.length).toBeGreaterThanOrEqual(2);
    const fc = fills[0]!.split(',');
    const f = fills[1]!.split(',');
    expect(f[fc.indexOf('liquidity')]).toBe('taker');
    expect(Number(f[fc.indexOf('ts')])).toBe(arriveTs);
    // 1 bp taker fee on the notional, rounded up to the cent (the venue's favour).
    const notionalCents = Math.round(Number(f[fc.indexOf('notional')]) * 100);
    expect(Math.round(Number(f[fc.indexOf('fee')]) * 100)).toBe(Math.ceil(notionalCents / 10_000));
    expect(r.summary.extra?.['strategies']).toBeDefined();
    // Per handler call, from the probe's strategy.log: quotes 50 us after the venue, acks and fills 70 us.
    const calls = readFileSync(join(work, 'probe', 'strategy.log'), 'utf8').trim().split('\n').map((l) => {
      const m = /^\S+ \[me\] (\w+) now=(\d+) venue=(-?\d+) (.*)$/.exec(l);
      expect(m, l).not.toBeNull();
      return { handler: m![1]!, nowNs: Number(m![2]), venueTsNs: Number(m![3]), detail: m![4]! };
    });
    const count = (h: string) => calls.filter((c) => c.handler === h).length;
    expect(count('onStart')).toBe(1);
    expect(count('onQuote')).toBeGreaterThan(10);
    expect(count('onFill')).toBe(fills.length - 1);
    // accepted, and the IOC's end (filled in full, or the rest cancelled).
    expect(count('onOrderUpdate')).toBeGreaterThanOrEqual(1);
    for (const c of calls.filter((x) => x.handler === 'onQuote')) expect(c.nowNs - c.venueTsNs, c.detail).toBe(50_000);
    for (const c of calls.filter((x) => x.handler === 'onFill' || x.handler === 'onOrderUpdate')) expect(c.nowNs - c.venueTsNs, c.detail).toBe(70_000);
    // The first ack: the order was accepted at its arrival, and the strategy heard 70 us later.
    const firstAck = calls.find((x) => x.handler === 'onOrderUpdate' || x.handler === 'onFill')!;
    expect(firstAck.venueTsNs).toBe(arriveTs);
    expect(firstAck.nowNs).toBe(arriveTs + 70_000);
  });

  it('a strategy that throws stops the run with its name, handler and virtual time, and leaves no output', async () => {
    const sc = load({ module: './thrower.ts', name: 'crashy' });
    const out = join(work, 'thrower');
    const err = await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'worker', audit: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^strategy "crashy" \(\.\/thrower\.ts\) failed in onQuote at virtual time 09:30:\d\d\.\d{9}: Error: boom on purpose/);
    // The line is exact from the CLI (source maps); vitest rewrites stacks, so only the file is checked here.
    expect(msg).toMatch(/ \(at \/\S+\/thrower\.ts:\d+:\d+\)$/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((d) => d.startsWith('thrower'))).toEqual([]);
  });

  it('an async handler stops the run with one line (handlers must be synchronous), and leaves no output', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const mode of ['promise', 'throw', 'await', 'factory']) {
        const sc = load({ module: './async.ts', name: 'as', params: { mode } });
        const out = join(work, `async-${mode}`);
        const err = await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false }).catch((e: unknown) => e);
        expect(err, mode).toBeInstanceOf(StrategyError);
        const handler = mode === 'factory' ? 'factory' : 'onQuote';
        const time = mode === 'factory' ? '09:30:00\\.000000000' : '09:30:\\d\\d\\.\\d{9}';
        expect((err as Error).message, mode).toMatch(
          new RegExp(`^strategy "as" \\(\\./async\\.ts\\) failed in ${handler} at virtual time ${time}: handlers must be synchronous: ${handler} returned a promise[^\\n]*$`),
        );
        expect(existsSync(out), mode).toBe(false);
      }
      // The async throw's rejection was settled by the runner, not left to crash the process.
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a thrown non-Error is shown as JSON, not [object Object]', async () => {
    const sc = load({ module: './async.ts', name: 'obj', params: { mode: 'object' } });
    const err = await runScenario({ scenario: sc, outDir: join(work, 'obj'), feedThread: 'inline', outputThread: 'inline', audit: false }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed in onQuote at virtual time [\d:.]+: \{"code":42\}$/);
  });

  it('two strategies: one report with unique chart ids and the venue charts once; strategy.log always written', async () => {
    const sc = load({ module: './probe.ts', name: 'a' }, { accounts: [{ id: 'zi' }, { id: 'me' }, { id: 'me2' }], strategies: [{ module: './probe.ts', name: 'a', account: 'me' }, { module: './silent.ts', name: 'b', account: 'me2' }] });
    const out = join(work, 'two');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const ids = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toEqual(['a/equity', 'a/inventory', 'a/price-ACME', 'spread-ACME', 'depth-ACME', 'b/equity', 'b/inventory', 'b/price-ACME']);
    expect(readFileSync(join(out, 'strategy.log'), 'utf8')).toMatch(/^\S+ \[a\] onStart/);
    const quiet = load({ module: './silent.ts', name: 'q' });
    await runScenario({ scenario: quiet, outDir: join(work, 'quiet'), feedThread: 'inline', outputThread: 'inline', audit: false });
    expect(readFileSync(join(work, 'quiet', 'strategy.log'), 'utf8')).toBe('');
  });

  it('refuses a bad strategy entry with the file and the JSON path', () => {
    const base = JSON.parse(readFileSync(join(root, 'scenarios', 'market-maker.json'), 'utf8')) as { strategies: Record<string, unknown>[] };
    const bad = (patch: Record<string, unknown>) => {
      const raw = structuredClone(base);
      Object.assign(raw.strategies[0]!, patch);
      return () => parseScenario(JSON.stringify(raw), join(root, 'scenarios', 'x.json'));
    };
    expect(bad({ module: '../strategies/nope.ts' })).toThrow(/x\.json: strategies\[0\]\.module: no such file "\.\.\/strategies\/nope\.ts"/);
    expect(bad({ account: 'ghost' })).toThrow(/strategies\[0\]\.account: unknown account "ghost"/);
    expect(bad({ latency: { order: { type: 'gamma' } } })).toThrow(/strategies\[0\]\.latency\.order\.type: expected one of "constant", "uniform", "lognormal"/);
    expect(bad({ fees: { makerBps: -2, takerBps: 1 } })).toThrow(/strategies\[0\]\.fees: the maker rebate 2 bp exceeds the taker fee 1 bp/);
    expect(bad({ sampleMs: 0 })).toThrow(/strategies\[0\]\.sampleMs: expected a whole number/);
  });

  it('the same scenario and seed give the same files; another seed other fills', async () => {
    const sc = loadScenario(join(root, 'scenarios', 'market-maker.json'));
    const a = join(work, 'mm-a');
    const b = join(work, 'mm-b');
    await runScenario({ scenario: sc, outDir: a, feedThread: 'inline', outputThread: 'inline', audit: false });
    await runScenario({ scenario: sc, outDir: b, feedThread: 'worker', outputThread: 'worker', audit: false });
    for (const f of ['fills.csv', 'orders.ndjson', 'equity.csv', 'metrics.csv', 'report.html', 'events.ndjson']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
    const c = join(work, 'mm-c');
    await runScenario({ scenario: loadScenario(join(root, 'scenarios', 'market-maker.json'), { seed: 99 }), outDir: c, feedThread: 'inline', outputThread: 'inline', audit: false });
    expect(readFileSync(join(a, 'fills.csv'), 'utf8')).not.toBe(readFileSync(join(c, 'fills.csv'), 'utf8'));
  });

  it('metrics agree with the fills and the equity curve', async () => {
    const d = join(work, 'mm-a');
    const fills = readFileSync(join(d, 'fills.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const h = fills.shift()!;
    const m = readFileSync(join(d, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const metric = (k: string) => m[1]![m[0]!.indexOf(k)]!;
    const cents = (s: string) => Math.round(Number(s) * 100);
    expect(Number(metric('fills'))).toBe(fills.length);
    expect(cents(metric('turnover'))).toBe(fills.reduce((a, f) => a + cents(f[h.indexOf('notional')]!), 0));
    expect(cents(metric('fees'))).toBe(fills.reduce((a, f) => a + cents(f[h.indexOf('fee')]!), 0));
    const lastPos = Number(fills[fills.length - 1]![h.indexOf('position')]);
    expect(Number(metric('inventory.ACME.final'))).toBe(lastPos);
    expect(cents(metric('pnl'))).toBe(cents(metric('realized')) + cents(metric('unrealized')) - cents(metric('fees')));
    const eq = readFileSync(join(d, 'equity.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const eh = eq.shift()!;
    expect(eq[eq.length - 1]![eh.indexOf('equity')]).toBe(metric('pnl'));
    let peak = 0;
    let dd = 0;
    for (const r of eq) {
      const v = cents(r[eh.indexOf('equity')]!);
      peak = Math.max(peak, v);
      dd = Math.max(dd, peak - v);
    }
    expect(cents(metric('maxDrawdown'))).toBe(dd);
    expect(Number(metric('makerFills'))).toBe(fills.filter((f) => f[h.indexOf('liquidity')] === 'maker').length);
    expect(metric('sharpe')).toMatch(/^-?\d+\.\d{4}$/);
  });
});

describe('NDJSON types', () => {
  it('counts, statistics and flags are JSON numbers and booleans; prices, sizes and money decimal strings', () => {
    const d = join(work, 'mm-a');
    const first = (f: string) => JSON.parse(readFileSync(join(d, f), 'utf8').split('\n')[0]!) as Record<string, unknown>;
    const m = first('metrics.ndjson');
    for (const k of ['orders', 'fills', 'samples', 'sharpe', 'sortino', 'fillRatio', 'sampleMs', 'submittedLots', 'inventory.ACME.final', 'inventory.ACME.meanAbs', 'markout1sPerLot']) expect(typeof m[k], k).toBe('number');
    for (const k of ['pnl', 'fees', 'turnover', 'maxDrawdown', 'markout1s']) expect(m[k], k).toMatch(/^-?\d+\.\d\d$/);
    // The same figures as the CSV, which keeps its fixed decimals.
    const csv = readFileSync(join(d, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(csv[1]![csv[0]!.indexOf('sharpe')]).toBe((m['sharpe'] as number).toFixed(4));
    for (const [k, v] of Object.entries(m)) expect(v === null || typeof v === 'number' || typeof v === 'string', k).toBe(true);
    const o = first('orders.ndjson');
    expect(typeof o['postOnly']).toBe('boolean');
    expect(typeof o['fills']).toBe('number');
    expect(o['restedMs'] === null || typeof o['restedMs'] === 'number').toBe(true);
    expect([o['size'], o['filled'], o['price']].every((v) => typeof v === 'string')).toBe(true);
    const f = first('fills.ndjson');
    expect([typeof f['seq'], typeof f['ts']]).toEqual(['number', 'number']);
    expect([f['price'], f['size'], f['position'], f['notional']].every((v) => typeof v === 'string')).toBe(true);
    expect(f['queueMs'] === null || typeof f['queueMs'] === 'number').toBe(true);
  });
});

describe('sweeps', () => {
  it('give the same sweep.csv with 1 and 2 workers', async () => {
    const file = join(root, 'scenarios', 'momentum.json');
    const opts = { scenarioFile: file, params: [{ name: 'thresholdTicks', values: [2, 4] }], seeds: [1, 2], metric: 'pnl' };
    const a = await runSweep({ ...opts, workers: 1, outDir: join(work, 'sw1') });
    const b = await runSweep({ ...opts, workers: 2, outDir: join(work, 'sw2') });
    const ca = readFileSync(a.csvPath, 'utf8');
    expect(ca).toBe(readFileSync(b.csvPath, 'utf8'));
    const lines = ca.trim().split('\n');
    expect(lines.length).toBe(5);
    expect(lines[0]).toMatch(/^run,seed,thresholdTicks,pnl,/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['1,1,2', '2,2,2', '3,1,4', '4,2,4']);
    // Ranked best first by pnl.
    const pnl = a.ranked.map((r) => Number(r[a.metricColumn]));
    expect([...pnl].sort((x, y) => y - x)).toEqual(pnl);
  });

  it('reports an unknown metric and an unknown strategy', async () => {
    const file = join(root, 'scenarios', 'momentum.json');
    await expect(runSweep({ scenarioFile: file, params: [{ name: 'nobody.x', values: [1] }], seeds: [1], workers: 1, metric: 'pnl', outDir: join(work, 'sw3') })).rejects.toThrow(/no strategy named "nobody"/);
    // Before any run: no output directory, and every column is offered (the last ones too).
    const err = await runSweep({ scenarioFile: file, params: [], seeds: [1], workers: 1, metric: 'happiness', outDir: join(work, 'sw4'), progress: () => expect.unreachable('a run started') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^--metric: "happiness" is not a column of sweep\.csv; expected one of "pnl", .*"markout60s", "markout60sPerLot" \(shortfall, /);
    expect(existsSync(join(work, 'sw4'))).toBe(false);
  });

  it('checks --param names and values against the scenario before any run', async () => {
    const file = join(root, 'scenarios', 'market-maker.json');
    const sweep = (params: { name: string; values: unknown[] }[]) =>
      runSweep({ scenarioFile: file, params, seeds: [1], workers: 1, metric: 'pnl', outDir: join(work, 'sw-bad'), progress: () => expect.unreachable('a run started') });
    await expect(sweep([{ name: 'sprdTicks', values: [1, 2] }])).rejects.toThrow(/^--param sprdTicks: no strategy in \S+market-maker\.json has a param "sprdTicks"; expected one of "mm\.spreadTicks", "mm\.sizeLots",/);
    await expect(sweep([{ name: 'mm.sprdTicks', values: [1] }])).rejects.toThrow(/has a param "sprdTicks" \(strategy "mm"\)/);
    await expect(sweep([{ name: 'spreadTicks', values: [1] }, { name: 'spreadTicks', values: [2] }])).rejects.toThrow(/--param spreadTicks: mm\.spreadTicks is already swept by --param spreadTicks/);
    await expect(sweep([{ name: 'spreadTicks', values: [1] }, { name: 'mm.spreadTicks', values: [2] }])).rejects.toThrow(/--param mm\.spreadTicks: mm\.spreadTicks is already swept by --param spreadTicks/);
    await expect(sweep([{ name: 'spreadTicks', values: [1, 1] }])).rejects.toThrow(/--param spreadTicks: the value 1 is given twice/);
    expect(existsSync(join(work, 'sw-bad'))).toBe(false);
  });
});
