import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../sim/errors.js';
import { runScenario } from '../sim/run.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { csv, events, type Row } from './run-files.js';

/**
 * A strategy on a venue account (a scenario with accounts): the venue's fees, its pre-trade
 * risk, and the back office's positions and P&L, so that the strategy's metrics and
 * `exsim report positions|pnl` (positions.json, pnl.json) are the same figures.
 */
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-strat-acct-'));
const files: string[] = [];
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  files.forEach((f) => rmSync(f, { force: true }));
});

const cents = (s: string): number => Math.round(Number(s) * 100);

describe('the market maker on a venue account (scenarios/market-maker-accounts.json)', () => {
  const dir = join(work, 'mma');
  let metrics: Row;
  beforeAll(async () => {
    await runScenario({ scenario: loadScenario(join(root, 'scenarios', 'market-maker-accounts.json')), outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
    metrics = csv(join(dir, 'metrics.csv'))[0]!;
  });

  it('metrics and report pnl/positions agree exactly', () => {
    const pnl = JSON.parse(readFileSync(join(dir, 'pnl.json'), 'utf8')) as { totals: Row[] };
    const total = pnl.totals.find((t) => t['account'] === 'mm')!;
    expect({ pnl: metrics['pnl'], realized: metrics['realized'], unrealized: metrics['unrealized'], fees: metrics['fees'] }).toEqual({
      pnl: total['total'],
      realized: total['realized'],
      unrealized: total['unrealized'],
      fees: total['fees'],
    });
    const pos = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { positions: Row[]; accounts: Row[] };
    const p = pos.positions.find((r) => r['account'] === 'mm' && r['instrument'] === 'ACME')!;
    expect(metrics['inventory.ACME.final']).toBe(p['position']);
    expect(pos.accounts.find((a) => a['account'] === 'mm')!['pnl']).toBe(metrics['pnl']);
    // The last sample is at the close, marked as the end-of-day job marks.
    const eq = csv(join(dir, 'equity.csv'));
    expect(eq[eq.length - 1]!['equity']).toBe(metrics['pnl']);
    // Something happened: fills, fees (net rebates) and a realized P&L.
    expect(Number(metrics['fills'])).toBeGreaterThan(20);
    expect(total['fees']).not.toBe('0.00');
  });

  it('each fill carries the fee the venue charged (the fee event of its trade) and the position after it', () => {
    const ev = events(dir);
    const fee = new Map<string, string>();
    for (const e of ev) if (e['type'] === 'fee' && e['account'] === 'mm') fee.set(`${e['tradeId']}`, `${e['liquidity']} ${e['amount']}`);
    const fills = csv(join(dir, 'fills.csv'));
    let pos = 0;
    let sum = 0;
    for (const f of fills) {
      expect(`${f['liquidity']} ${f['fee']}`).toBe(fee.get(f['tradeId']!));
      pos += (f['side'] === 'buy' ? 1 : -1) * Number(f['size']);
      expect(Number(f['position'])).toBe(pos);
      sum += cents(f['fee']!);
    }
    expect(fee.size).toBe(fills.length);
    expect(sum).toBe(cents(metrics['fees']!));
  });

  it('pre-trade risk rejects reach the strategy with their reason', () => {
    const rejected = events(dir).filter((e) => e['type'] === 'rejected' && e['account'] === 'mm');
    const risk = rejected.filter((e) => e['reason'] === 'long-position-limit' || e['reason'] === 'short-position-limit');
    expect(risk.length).toBeGreaterThan(0);
    expect(Number(metrics['ordersRejected'])).toBe(rejected.length);
    const orders = csv(join(dir, 'orders.csv')).filter((o) => o['status'] === 'rejected');
    expect(orders.map((o) => o['reason']).sort()).toEqual(rejected.map((e) => e['reason'] as string).sort());
    const log = readFileSync(join(dir, 'strategy.log'), 'utf8');
    expect(log).toMatch(/\[mm\] rejected (buy|sell) \d+ (long|short)-position-limit/);
  });
});

describe('a strategy on a venue account (small scenarios)', () => {
  function scenario(extraStrategy: Record<string, unknown> = {}, limits: Record<string, unknown> = { maxOrderLots: 10 }): string {
    const raw = {
      name: 'strat-acct',
      seed: 3,
      session: { date: '2026-01-05', open: '09:30:00', close: '09:32:00' },
      instruments: [{ symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePrice: '100.00', fees: { makerBps: -1, takerBps: 3 } }],
      accounts: [
        { id: 'zi', type: 'margin', cash: '10000000.00' },
        { id: 'me', type: 'margin', cash: '100000.00', limits },
      ],
      feeds: [{ type: 'synthetic', instrument: 'ACME', account: 'zi', orders: 400, rates: { limit: 5, cancel: 3, market: 1 }, volatilityTicks: 0.5, depthTicks: 10, size: { min: '1', max: '10' } }],
      strategies: [{ module: './risk-probe.ts', account: 'me', ...extraStrategy }],
    };
    const file = join(root, 'test', 'fixtures-strategies', `acct-${files.length}-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(raw));
    files.push(file);
    return file;
  }

  it('a risk reject is an onOrderUpdate "rejected" with its reason; fees are the instrument schedule; ctx.pnl() at the end is the account P&L', async () => {
    const dir = join(work, 'probe');
    await runScenario({ scenario: loadScenario(scenario()), outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
    const log = readFileSync(join(dir, 'strategy.log'), 'utf8');
    expect(log).toContain('[me] update rejected too-big rejected max-order-size');
    const fills = csv(join(dir, 'fills.csv'));
    const take = fills.filter((f) => f['liquidity'] === 'taker');
    expect(take.length).toBeGreaterThan(0);
    for (const f of fills) {
      // 3 bp taker, -1 bp maker rebate, rounded toward +infinity (engine/fees.ts).
      const n = cents(f['notional']!);
      expect(cents(f['fee']!)).toBe(f['liquidity'] === 'taker' ? Math.ceil((n * 3) / 10_000) : Math.ceil(-n / 10_000));
    }
    const total = (JSON.parse(readFileSync(join(dir, 'pnl.json'), 'utf8')) as { totals: Row[] }).totals.find((t) => t['account'] === 'me')!;
    const pos = (JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { positions: Row[] }).positions.find((r) => r['account'] === 'me')!;
    const end = /\[me\] end pos (-?\d+) realized (-?\d+) fees (-?\d+)/.exec(log)!;
    expect(end).not.toBeNull();
    expect(end[1]).toBe(pos['position']);
    expect(Number(end[2])).toBe(cents(total['realized']!));
    expect(Number(end[3])).toBe(cents(total['fees']!));
    const m = csv(join(dir, 'metrics.csv'))[0]!;
    expect([m['pnl'], m['fees'], m['ordersRejected']]).toEqual([total['total'], total['fees'], '1']);
  });

  it('a strategy fee schedule in a scenario with accounts is an error naming the path', () => {
    const f = scenario({ fees: { makerBps: 0, takerBps: 1 } });
    let err: unknown;
    try {
      parseScenario(readFileSync(f, 'utf8'), f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect(String((err as Error).message)).toContain('strategies[0].fees: the scenario has accounts, so the strategy pays the venue\'s fees (instruments[].fees); remove this field');
  });
});
