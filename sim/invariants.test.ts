import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventRecord, EventType } from '../engine/event.js';
import { OrderType } from '../engine/types.js';
import { InvariantCheckComponent } from './invariants.js';
import { runScenario, type RunComponent } from './run.js';
import { loadScenario } from './scenario.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-inv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function ev(type: EventType, f: Partial<EventRecord>): EventRecord {
  return Object.assign(new EventRecord(), { type, instrument: 0, ...f });
}

describe('run-time invariant mode', () => {
  it('a synthetic scenario runs clean with the checks on, and gives the same bytes as without', async () => {
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    const off = await runScenario({ scenario: sc, outDir: join(work, 'off'), feedThread: 'inline', outputThread: 'inline', audit: false });
    // A small N so the books' full check runs many times over the day.
    const on = await runScenario({
      scenario: sc,
      outDir: join(work, 'on'),
      feedThread: 'inline',
      outputThread: 'inline',
      audit: false,
      checkInvariantsEvery: 257,
    });
    expect(on.summary.eventsSha256).toBe(off.summary.eventsSha256);
    expect(on.summary.events).toBeGreaterThan(10_000);
  });

  it('checks the whole stream: every accepted order is followed to a terminal state or to the book', async () => {
    const sc = loadScenario(join(root, 'scenarios/stops.json'));
    const inv = new InvariantCheckComponent();
    // The same component the run adds, here as an extra to read its counts afterwards.
    await runScenario({ scenario: sc, outDir: join(work, 'stops'), feedThread: 'inline', outputThread: 'inline', audit: false, checkInvariantsEvery: 1, components: [inv] });
    const s = inv.stats();
    expect(s.orders).toBeGreaterThan(5);
    expect(s.terminal).toBeGreaterThan(0);
    expect(s.terminal).toBeLessThanOrEqual(s.orders);
  });

  it('a book check that fails stops the run with the invariant named, nothing published', async () => {
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    const out = join(work, 'broken-book');
    const breaker: RunComponent = {
      name: 'breaker',
      start(ctx) {
        ctx.exchange.checkInvariants = () => {
          throw new Error('best bid 10001 != brute force 10000');
        };
      },
    };
    await expect(runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false, checkInvariantsEvery: 1000, components: [breaker] })).rejects.toThrow(
      /invariant broken: book consistency \(brute-force BBO, order pool, levels\) at virtual ns \d+: best bid 10001/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('quantity conservation: leaves must be what was there minus what left', () => {
    const c = new InvariantCheckComponent();
    c.onEvent(ev(EventType.OrderAccepted, { orderId: 1, orderType: OrderType.Limit, sizeLots: 10, seq: 1 }));
    c.onEvent(ev(EventType.OrderAccepted, { orderId: 2, orderType: OrderType.Limit, sizeLots: 4, seq: 2 }));
    c.onEvent(ev(EventType.Trade, { orderId: 2, makerOrderId: 1, sizeLots: 4, leavesLots: 0, makerLeavesLots: 6, seq: 3 }));
    expect(c.stats().terminal).toBe(1);
    expect(() => c.onEvent(ev(EventType.OrderCancelled, { orderId: 1, sizeLots: 5, leavesLots: 0, seq: 4 }))).toThrow(/invariant broken: quantity conservation: order 1 had 6 lots, 5 left it, the event says 0 remain \(event seq 4/);
  });

  it('one terminal state per order: nothing may follow it, and orders must be accepted first', () => {
    const c = new InvariantCheckComponent();
    c.onEvent(ev(EventType.OrderAccepted, { orderId: 1, orderType: OrderType.Limit, sizeLots: 3 }));
    c.onEvent(ev(EventType.OrderCancelled, { orderId: 1, sizeLots: 3, leavesLots: 0 }));
    expect(() => c.onEvent(ev(EventType.OrderExpired, { orderId: 1, sizeLots: 3 }))).toThrow(/one terminal state per order: order 1 has an event after its terminal state/);
    expect(() => c.onEvent(ev(EventType.OrderAccepted, { orderId: 1, orderType: OrderType.Limit, sizeLots: 3 }))).toThrow(/order 1 accepted twice/);
    expect(() => c.onEvent(ev(EventType.OrderCancelled, { orderId: 7, sizeLots: 1, leavesLots: 0 }))).toThrow(/order 7 has an event but was never accepted/);
  });
});
