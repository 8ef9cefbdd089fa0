import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/scenario.js';
import { runScenario } from '../sim/run.js';
import { verifyAudit } from '../sim/sinks/audit.js';
import { queryAudit } from '../sim/sinks/audit-query.js';
import { UserError } from '../sim/errors.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('runScenario', () => {
  it('gives byte-identical output with the feed and writers in worker threads or inline', async () => {
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    const a = join(work, 'inline');
    const b = join(work, 'worker');
    const ra = await runScenario({ scenario: sc, outDir: a, feedThread: 'inline', outputThread: 'inline', audit: true });
    const rb = await runScenario({ scenario: sc, outDir: b, feedThread: 'worker', outputThread: 'worker', audit: true });
    expect(readFileSync(join(a, 'events.ndjson')).equals(readFileSync(join(b, 'events.ndjson')))).toBe(true);
    expect(readFileSync(join(a, 'summary.json'), 'utf8')).toBe(readFileSync(join(b, 'summary.json'), 'utf8'));
    expect(ra.summary.eventsSha256).toBe(rb.summary.eventsSha256);
    expect(ra.summary.events).toBeGreaterThan(5_000);
    // The audit log holds every event, with an intact chain, in both modes.
    for (const d of [a, b]) {
      const v = verifyAudit(join(d, 'audit.sqlite'));
      expect(v.ok).toBe(true);
      expect(v.rows).toBe(ra.summary.events);
    }
    expect(ra.output.auditHeadHash).toBe(rb.output.auditHeadHash);
  });

  it('a different seed gives a different stream, the same seed the same', async () => {
    const s1 = loadScenario(join(root, 'scenarios/quickstart.json'), { seed: 1 });
    const s2 = loadScenario(join(root, 'scenarios/quickstart.json'), { seed: 2 });
    const r1 = await runScenario({ scenario: s1, outDir: join(work, 's1'), feedThread: 'inline', outputThread: 'inline', audit: false });
    const r1b = await runScenario({ scenario: s1, outDir: join(work, 's1b'), feedThread: 'worker', outputThread: 'inline', audit: false });
    const r2 = await runScenario({ scenario: s2, outDir: join(work, 's2'), feedThread: 'inline', outputThread: 'inline', audit: false });
    expect(r1.summary.eventsSha256).toBe(r1b.summary.eventsSha256);
    expect(r1.summary.eventsSha256).not.toBe(r2.summary.eventsSha256);
  });

  it('counts a long wait in one early feed pull once, not once per sampled pull', async () => {
    // A feed worker's start-up is one long wait in the first pulls. Pulls are timed one in 16
    // after the first 4,096, each sample counting for 16: a clock that jumps 1,000 ms inside
    // the first pull (its 2nd and 3rd reads; the 1st is the run's start) must give a feed wait
    // of ~1,000 ms, within the wall time, and matching+emit the rest (never negative).
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    let reads = 0;
    const wallMs = (): number => {
      reads++;
      return (reads >= 3 ? 1_000 : 0) + reads * 1e-6;
    };
    const r = await runScenario({ scenario: sc, outDir: join(work, 'timed'), feedThread: 'inline', outputThread: 'inline', audit: false, wallMs });
    const t = r.timings!;
    expect(t.commands).toBeGreaterThan(4_096); // so sampled pulls are timed too
    expect(t.feedWaitMs).toBeGreaterThanOrEqual(1_000);
    expect(t.feedWaitMs).toBeLessThan(1_001);
    expect(t.feedWaitMs).toBeLessThanOrEqual(t.wallMs);
    expect(t.matchingMs).toBeGreaterThanOrEqual(0);
    expect(t.matchingMs).toBeLessThan(1);
  });

  it('audit query finds an order as taker and as maker', async () => {
    const sc = loadScenario(join(root, 'scenarios/stops.json'));
    const d = join(work, 'stops');
    await runScenario({ scenario: sc, outDir: d, feedThread: 'inline', outputThread: 'inline', audit: true });
    const rows = queryAudit(join(d, 'audit.sqlite'), { orderId: 2 });
    const types = rows.map((r) => r['type']);
    expect(types).toEqual(['accepted', 'rested', 'trade', 'trade']);
    expect(rows.slice(2).every((r) => r['makerOrderId'] === 2)).toBe(true);
    const trades = queryAudit(join(d, 'audit.sqlite'), { type: 'trade', account: 'alice' });
    expect(trades.map((r) => r['orderId'])).toEqual([7, 8]);
  });

  it('leaves nothing behind when a run fails', async () => {
    const sc = loadScenario(join(root, 'scenarios/stops.json'));
    const d = join(work, 'failing');
    const boom = { name: 'boom', start: () => { throw new Error('component failed'); } };
    await expect(runScenario({ scenario: sc, outDir: d, feedThread: 'inline', outputThread: 'worker', audit: true, components: [boom] })).rejects.toThrow('component failed');
    expect(existsSync(d)).toBe(false);
    expect(readdirSync(work).filter((f) => f.startsWith('failing'))).toEqual([]);
  });

  it('a bad output path is bad input, found before the run starts', async () => {
    const sc = loadScenario(join(root, 'scenarios/stops.json'));
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    let started = 0;
    const spy = { name: 'spy', start: () => void started++ };
    for (const [outDir, msg] of [
      [file, `${file}: exists and is not a directory`],
      [join(file, 'sub'), `${join(file, 'sub')}: ${file} is not a directory`],
    ] as const) {
      const p = runScenario({ scenario: sc, outDir, feedThread: 'inline', outputThread: 'inline', audit: false, components: [spy] });
      await expect(p).rejects.toThrow(UserError);
      await expect(p).rejects.toThrow(msg);
    }
    expect(started).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});
