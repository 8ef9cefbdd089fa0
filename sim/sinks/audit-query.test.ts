import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SLOTS, EventRecord, decodeEvent } from '../../engine/event.js';
import { AuditWriter } from './audit.js';
import { queryAudit } from './audit-query.js';
import { createEventFormatter } from './event-format.js';
import { SAMPLE_ACCOUNTS, SAMPLE_INSTRUMENTS, sampleEvents } from './sample-events.js';

const dir = mkdtempSync(join(tmpdir(), 'exsim-query-'));
const path = join(dir, 'audit.sqlite');
type Ev = Record<string, unknown>;
let all: Ev[] = [];

beforeAll(() => {
  const w = new AuditWriter(path, { scenario: 'q', seed: 's', instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS });
  const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
  const n = 5000;
  const buf = sampleEvents(n, 'query');
  const e = new EventRecord();
  for (let i = 0; i < n; i++) {
    decodeEvent(buf, i * EVENT_SLOTS, e);
    // Small order ids so an id recurs as taker and maker.
    e.orderId = 1 + (e.orderId % 50);
    e.makerOrderId = 1 + (e.makerOrderId % 50);
    const line = fmt(e);
    all.push(JSON.parse(line) as Ev);
    w.append(e, line);
  }
  w.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ORDER_TYPES = new Set(['accepted', 'trade', 'cancelled', 'expired', 'modified', 'modify-rejected', 'cancel-rejected', 'stop-triggered', 'rested']);

describe('queryAudit', () => {
  it('filters by type in seq order', () => {
    const got = queryAudit(path, { type: 'trade', limit: 100_000 });
    expect(got).toEqual(all.filter((e) => e.type === 'trade'));
    expect(got.length).toBeGreaterThan(100);
  });

  it('stops at the limit inside a later block, and a time window skips whole blocks', () => {
    const trades = all.filter((e) => e.type === 'trade');
    const inFirstBlock = trades.filter((e) => (e.seq as number) <= 1024).length;
    expect(queryAudit(path, { type: 'trade', limit: inFirstBlock + 3 })).toEqual(trades.slice(0, inFirstBlock + 3));
    const from = all[2500]!.ts as number;
    const to = all[2600]!.ts as number;
    expect(queryAudit(path, { fromNs: from, toNs: to, limit: 100_000 })).toEqual(all.filter((e) => (e.ts as number) >= from && (e.ts as number) <= to));
  });

  it('matches an order id as taker or maker', () => {
    const got = queryAudit(path, { orderId: 7, limit: 100_000 });
    const want = all.filter((e) => (ORDER_TYPES.has(e.type as string) && e.orderId === 7) || (e.type === 'trade' && e.makerOrderId === 7));
    expect(got).toEqual(want);
    expect(got.some((e) => e.type === 'trade' && e.makerOrderId === 7 && e.orderId !== 7)).toBe(true);
  });

  it('matches an account as account or maker account, combined with a time window', () => {
    const from = all[1000]!.ts as number;
    const to = all[3000]!.ts as number;
    const got = queryAudit(path, { account: 'mm-"1"', fromNs: from, toNs: to, limit: 100_000 });
    const want = all.filter((e) => (e.account === 'mm-"1"' || e.makerAccount === 'mm-"1"') && (e.ts as number) >= from && (e.ts as number) <= to);
    expect(got).toEqual(want);
    expect(got.length).toBeGreaterThan(10);
  });

  it('answers an account filter when the log has one account', () => {
    const one = join(dir, 'one.sqlite');
    const w = new AuditWriter(one, { scenario: 'q1', seed: 1, instruments: SAMPLE_INSTRUMENTS, accountNames: ['solo'] });
    const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, ['solo']);
    const buf = sampleEvents(600, 'query-one');
    const e = new EventRecord();
    const want: Ev[] = [];
    for (let i = 0; i < 600; i++) {
      decodeEvent(buf, i * EVENT_SLOTS, e);
      e.account = e.makerAccount = 0;
      const line = fmt(e);
      const o = JSON.parse(line) as Ev;
      if (o.account === 'solo' || o.makerAccount === 'solo') want.push(o);
      w.append(e, line);
    }
    w.close();
    expect(queryAudit(one, { account: 'solo', limit: 100_000 })).toEqual(want);
    expect(want.length).toBeGreaterThan(100);
    expect(() => queryAudit(one, { account: 'nobody' })).toThrow(/no account "nobody" in this log; accounts: solo/);
  });

  it('applies the limit (default 1000) and treats values as data, not SQL', () => {
    expect(queryAudit(path, {}).length).toBe(1000);
    expect(queryAudit(path, { limit: 3 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(() => queryAudit(path, { account: "x' OR 1=1 --" })).toThrow(/no account/);
    expect(() => queryAudit(path, { type: "trade' OR 1=1 --" })).toThrow(/no event type .*; types: .*trade/);
    expect(queryAudit(path, { orderId: -1 })).toEqual([]);
    expect(() => queryAudit(path, { limit: 0 })).toThrow(/limit/);
  });
});
