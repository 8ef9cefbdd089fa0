import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackOffice } from '../engine/back-office.js';
import { runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';
import { csv, events, type Row } from './run-files.js';

/**
 * Strategies on a replayed market (docs/replay.md): own fills are the replay venue's `fill`
 * events, and the strategy, its fills table and its time-in-queue metrics carry what the venue
 * measured (liquidity taker/queue/through/crossed, lots ahead at entry, time in queue).
 */
const root = join(import.meta.dirname, '..');
const scenarioFile = join(root, 'scenarios', 'replay-aapl-queue.json');
const raw = JSON.parse(readFileSync(scenarioFile, 'utf8')) as { feeds: { messages: string; orderbook: string }[]; strategies: Record<string, unknown>[] };
const data = resolve(dirname(scenarioFile), raw.feeds[0]!.messages);
const haveData = existsSync(data);
/** The suite's title says why when it skips (vitest's output and the summary's skipped list show it). */
const title = (name: string): string => (haveData ? name : `${name} [SKIPPED: ${data} not found]`);

const work = mkdtempSync(join(tmpdir(), 'exsim-strat-replay-'));
const temp: string[] = [];
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  temp.forEach((f) => rmSync(f, { force: true }));
});


describe.skipIf(!haveData)(title('queue-join on the AAPL first-672 slice (scenarios/replay-aapl-queue.json)'), () => {
  const dir = join(work, 'queue');
  let fillEvents: Record<string, unknown>[];
  beforeAll(async () => {
    await runScenario({ scenario: loadScenario(scenarioFile), outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
    fillEvents = events(dir).filter((e) => e['type'] === 'fill' && e['account'] === 'quant');
  });

  it('fills.csv is the venue fill events, with liquidity, lots ahead at entry and time in queue', () => {
    const fills = csv(join(dir, 'fills.csv'));
    expect(fillEvents.length).toBeGreaterThan(10);
    expect(fills.length).toBe(fillEvents.length);
    fills.forEach((f, k) => {
      const e = fillEvents[k]!;
      expect([f['seq'], f['tradeId'], f['side'], f['price'], f['size'], f['replayLiquidity'], f['queueAtEntry'], f['queueMs']]).toEqual([
        String(e['seq']),
        String(e['tradeId']),
        e['side'],
        e['price'],
        e['size'],
        e['liquidity'],
        e['queueAtEntry'],
        ((e['queueNs'] as number) / 1e6).toFixed(3),
      ]);
      expect(f['liquidity']).toBe('maker');
    });
    // The slice shows every passive kind: the queue reached, the market trading through, a recorded order crossing.
    expect(new Set(fills.map((f) => f['replayLiquidity']))).toEqual(new Set(['queue', 'through', 'crossed']));
    expect(fills.some((f) => Number(f['queueAtEntry']) > 0)).toBe(true);
  });

  it('time in queue in the metrics is the venue measure', () => {
    const q = fillEvents.map((e) => e['queueNs'] as number).sort((a, b) => a - b);
    const mean = q.reduce((a, b) => a + b, 0) / q.length;
    const m = q.length >> 1;
    const median = q.length % 2 === 1 ? q[m]! : Math.floor((q[m - 1]! + q[m]!) / 2);
    const metrics = csv(join(dir, 'metrics.csv'))[0]!;
    expect(metrics['queueMeanMs']).toBe((mean / 1e6).toFixed(3));
    expect(metrics['queueMedianMs']).toBe((median / 1e6).toFixed(3));
    expect(metrics['makerFills']).toBe(String(fillEvents.length));
  });

  it('onFill sees each fill after the ack latency, with its liquidity, queue at entry and time in queue', () => {
    const lines = readFileSync(join(dir, 'strategy.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('] fill '));
    expect(lines.length).toBe(fillEvents.length);
    const ackNs = (raw.strategies[0]!['latency'] as { ack: { ns: number } }).ack.ns;
    lines.forEach((l, k) => {
      const e = fillEvents[k]!;
      const ts = (e['ts'] as number) + ackNs;
      const hms = `${String(Math.floor(ts / 3.6e12)).padStart(2, '0')}:${String(Math.floor(ts / 6e10) % 60).padStart(2, '0')}:${String(Math.floor(ts / 1e9) % 60).padStart(2, '0')}.${String(ts % 1e9).padStart(9, '0')}`;
      expect(l.startsWith(hms)).toBe(true);
      expect(l).toContain(`fill ${e['side']} ${e['size']} @ ${Math.round(Number(e['price']) * 100)} ${e['liquidity']} ahead at entry ${e['queueAtEntry']} queue ms ${(e['queueNs'] as number) / 1e6} `);
    });
  });
});

describe.skipIf(!haveData)(title('the tape and a taker fill on a replayed market'), () => {
  it('onTrade gets the recorded prints; a crossing order is a taker fill without queue fields', async () => {
    const sc = { ...raw, name: 'replay-tape', strategies: [{ module: './tape.ts', account: 'quant' }] } as Record<string, unknown>;
    sc['feeds'] = raw.feeds.map((f) => ({ ...f, messages: resolve(dirname(scenarioFile), f.messages), orderbook: resolve(dirname(scenarioFile), f.orderbook) }));
    const file = join(root, 'test', 'fixtures-strategies', `replay-tape-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(sc));
    temp.push(file);
    const dir = join(work, 'tape');
    await runScenario({ scenario: loadScenario(file), outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
    const ev = events(dir);
    const prints = ev.filter((e) => e['type'] === 'market-trade');
    const log = readFileSync(join(dir, 'strategy.log'), 'utf8');
    const lots = prints.reduce((a, e) => a + Number(e['size']), 0);
    expect(log).toContain(`[quant] tape ${prints.length} ${lots}`);
    const p0 = prints[0]!;
    expect(log).toContain(`first trade ${Math.round(Number(p0['price']) * 100)} ${p0['size']} ${p0['aggressor'] as string} ${p0['ts']}`);
    const fills = ev.filter((e) => e['type'] === 'fill');
    expect(fills.length).toBeGreaterThan(0);
    let pos = 0;
    for (const f of fills) {
      expect(f['liquidity']).toBe('taker');
      pos += Number(f['size']);
      expect(log).toContain(`fill buy ${f['size']} ${Math.round(Number(f['price']) * 100)} taker taker null null pos ${pos}`);
    }
    const rows = csv(join(dir, 'fills.csv'));
    expect(rows.map((r) => [r['liquidity'], r['replayLiquidity'], r['queueAtEntry'], r['queueMs']])).toEqual(fills.map(() => ['taker', 'taker', '', '']));
  });
});

describe.skipIf(!haveData)(title('a strategy on a replayed market with accounts'), () => {
  // The back office clears fills against a recorded market through its onFill hook (on main since
  // the integ merge). Without the hook the run must stop, never report a P&L without them.
  const clearsReplay = typeof (BackOffice.prototype as unknown as Record<string, unknown>)['onFill'] === 'function';
  it(clearsReplay ? 'metrics and pnl.json agree' : 'stops with the uncleared fill named', async () => {
    const sc = { ...raw, name: 'replay-accounts', accounts: [{ id: 'quant', type: 'margin', cash: '10000000.00' }] } as Record<string, unknown>;
    sc['instruments'] = [{ symbol: 'AAPL', tickSize: '0.01', lotSize: '1', referencePrice: '585.00', fees: { makerBps: -0.2, takerBps: 0.3 } }];
    sc['feeds'] = raw.feeds.map((f) => ({ ...f, messages: resolve(dirname(scenarioFile), f.messages), orderbook: resolve(dirname(scenarioFile), f.orderbook) }));
    sc['strategies'] = raw.strategies.map((st) => ({ ...st, module: resolve(root, 'strategies', 'queue-join.ts') }));
    const file = join(root, 'test', 'fixtures-strategies', `replay-accounts-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(sc));
    temp.push(file);
    const dir = join(work, 'replay-accounts');
    const run = runScenario({ scenario: loadScenario(file), outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
    if (!clearsReplay) {
      await expect(run).rejects.toThrow(/strategy fill \(trade 1, AAPL\) was not cleared by the back office/);
      expect(existsSync(join(dir, 'metrics.csv'))).toBe(false);
      return;
    }
    await run;
    const total = (JSON.parse(readFileSync(join(dir, 'pnl.json'), 'utf8')) as { totals: Row[] }).totals.find((t) => t['account'] === 'quant')!;
    const m = csv(join(dir, 'metrics.csv'))[0]!;
    expect([m['pnl'], m['realized'], m['unrealized'], m['fees']]).toEqual([total['total'], total['realized'], total['unrealized'], total['fees']]);
    expect(Number(m['fills'])).toBeGreaterThan(10);
  });
});
