import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SLOTS, EventRecord, EventType, decodeEvent } from '../../engine/event.js';
import { verifyAudit } from './audit.js';
import { readAuditRows } from './audit-block.js';
import { createEventFormatter } from './event-format.js';
import { openOutput, type OutputOptions, type OutputSink } from './output.js';
import { SAMPLE_ACCOUNTS, SAMPLE_INSTRUMENTS, sampleEvents } from './sample-events.js';

const root = mkdtempSync(join(tmpdir(), 'exsim-output-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const N = 40_000; // more than the ring holds, so the producer meets back-pressure
const events = sampleEvents(N, 'output-test');

function opts(thread: 'inline' | 'worker', audit = true, outDir = join(root, `run${n++}`)): OutputOptions {
  mkdirSync(outDir, { recursive: true });
  return { outDir, instruments: SAMPLE_INSTRUMENTS, accountNames: SAMPLE_ACCOUNTS, scenario: 'out', seed: 7, audit, thread };
}

function emitAll(sink: OutputSink, count = N, tweak?: (e: EventRecord, i: number) => void): void {
  const e = new EventRecord();
  for (let i = 0; i < count; i++) {
    decodeEvent(events, i * EVENT_SLOTS, e);
    tweak?.(e, i);
    sink.emit(e);
  }
}

function auditRows(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  const rows = readAuditRows(db);
  db.close();
  return rows;
}

describe('openOutput', () => {
  it('inline and worker write byte-identical events.ndjson and identical audit rows', async () => {
    const results = [];
    const dirs: string[] = [];
    for (const thread of ['inline', 'worker'] as const) {
      const o = opts(thread);
      dirs.push(o.outDir);
      const sink = openOutput(o);
      emitAll(sink);
      results.push(await sink.close());
    }
    const [a, b] = dirs.map((d) => readFileSync(join(d!, 'events.ndjson')));
    expect(a!.equals(b!)).toBe(true);
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.events).toBe(N);
    expect(results[0]!.auditRows).toBe(N);
    expect(results[0]!.eventsSha256).toBe(createHash('sha256').update(a!).digest('hex'));

    // The file is exactly the canonical lines, one per event.
    const fmt = createEventFormatter(SAMPLE_INSTRUMENTS, SAMPLE_ACCOUNTS);
    const e = new EventRecord();
    const lines = a!.toString('utf8').split('\n');
    expect(lines.length).toBe(N + 1);
    expect(lines[N]).toBe('');
    for (const i of [0, 1, 12_345, N - 1]) {
      decodeEvent(events, i * EVENT_SLOTS, e);
      expect(lines[i]).toBe(fmt(e));
    }

    expect(auditRows(join(dirs[0]!, 'audit.sqlite'))).toEqual(auditRows(join(dirs[1]!, 'audit.sqlite')));
    for (const d of dirs) {
      expect(verifyAudit(join(d, 'audit.sqlite'))).toEqual({ ok: true, rows: N });
      expect(readdirSync(d).sort()).toEqual(['audit.sqlite', 'events.ndjson']);
    }
  });

  it('without audit writes only events.ndjson and removes a stale audit.sqlite', async () => {
    for (const thread of ['inline', 'worker'] as const) {
      const o = opts(thread, false);
      const stale = openOutput({ ...o, thread: 'inline', audit: true });
      emitAll(stale, 10);
      await stale.close();
      const sink = openOutput(o);
      emitAll(sink, 1000);
      const r = await sink.close();
      expect(r).toMatchObject({ events: 1000, auditRows: 0, auditHeadHash: null });
      expect(readdirSync(o.outDir)).toEqual(['events.ndjson']);
    }
  });

  it('abort leaves no files behind', async () => {
    for (const thread of ['inline', 'worker'] as const) {
      const o = opts(thread);
      const sink = openOutput(o);
      emitAll(sink, 20_000);
      await sink.abort();
      expect(readdirSync(o.outDir)).toEqual([]);
    }
  });

  it('an unwritable directory rejects close() in worker mode and throws at open inline, without hanging', async () => {
    const missing = join(root, 'does', 'not', 'exist');
    const sink = openOutput({ ...opts('worker'), outDir: missing });
    emitAll(sink); // fills the ring several times over: must not block forever
    await expect(sink.close()).rejects.toThrow(/writing output failed: .*(ENOENT|no such file)/);
    expect(existsSync(missing)).toBe(false);
    expect(() => openOutput({ ...opts('inline'), outDir: missing })).toThrow(/ENOENT|no such file/);
  });

  it('a failure mid-stream in the worker rejects close() with the reason and leaves no partial files', async () => {
    const o = opts('worker');
    const sink = openOutput(o);
    emitAll(sink, N, (e, i) => {
      if (i === 5000) e.type = 99 as EventType;
    });
    await expect(sink.close()).rejects.toThrow(/writing output failed: event has unknown type 99/);
    expect(readdirSync(o.outDir)).toEqual([]);
  });

  it('a failure inline is reported at close(), not thrown into the core', async () => {
    const o = opts('inline');
    const sink = openOutput(o);
    expect(() =>
      emitAll(sink, 3000, (e, i) => {
        if (i === 100) e.side = 5;
        if (i === 100) e.type = EventType.Level;
      }),
    ).not.toThrow();
    await expect(sink.close()).rejects.toThrow(/writing output failed: event has unknown side 5/);
    expect(readdirSync(o.outDir)).toEqual([]);
  });
});
