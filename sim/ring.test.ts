import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { Ring, RingAbandonedError } from './ring.js';
import { tsxEsmApiUrl } from './worker-url.js';

/** Content of record i, slot s: distinct per record and slot, exactly representable. */
const val = (i: number, s: number): number => i * 8 + s;

describe('Ring', () => {
  it('rejects bad layouts', () => {
    expect(() => Ring.create(3, 6)).toThrow(/power of two/);
    expect(() => Ring.create(0, 8)).toThrow(/recordSlots/);
    expect(() => Ring.create(4, 1 << 25)).toThrow(/capacity/);
    expect(() => Ring.attach(new SharedArrayBuffer(1024))).toThrow(/magic/);
  });

  it('passes records in order, is full at capacity, and frees slots on advance', () => {
    const r = Ring.create(3, 4);
    expect(r.peek()).toBe(-1);
    for (let i = 0; i < 4; i++) {
      const o = r.tryReserve();
      expect(o).toBe(i * 3);
      r.data[o] = i;
    }
    expect(r.tryReserve()).toBe(-1);
    // Not committed yet: invisible to the consumer.
    expect(r.available()).toBe(0);
    expect(r.peek()).toBe(-1);
    r.commit();
    expect(r.available()).toBe(4);
    expect(r.data[r.peek()]).toBe(0);
    r.advance();
    expect(r.tryReserve()).toBe(0); // wrapped to slot 0
    expect(() => r.advance(4)).toThrow(/past/);
  });

  for (const start of [0x7ffffff0, -16, -1]) {
    it(`survives counter wrap (start ${start}), far beyond capacity, with content checks`, () => {
      const cap = 8;
      const r = Ring.create(2, cap, { startCount: start });
      const c = Ring.attach(r.sab);
      let produced = 0;
      let consumed = 0;
      const total = 10_000;
      while (consumed < total) {
        // Produce a burst of pseudo-random length, then consume a different amount.
        const burst = 1 + ((consumed * 7) % 11);
        for (let k = 0; k < burst && produced < total; k++) {
          const o = r.tryReserve();
          if (o < 0) break;
          r.data[o] = val(produced, 0);
          r.data[o + 1] = val(produced, 1);
          produced++;
        }
        r.commit();
        expect(c.available()).toBe(produced - consumed);
        expect(c.available()).toBeLessThanOrEqual(cap);
        const take = 1 + ((produced * 5) % 9);
        for (let k = 0; k < take; k++) {
          const o = c.peek();
          if (o < 0) break;
          expect(c.data[o]).toBe(val(consumed, 0));
          expect(c.data[o + 1]).toBe(val(consumed, 1));
          c.advance();
          consumed++;
        }
      }
      expect(consumed).toBe(total);
    });
  }

  it('close: consumer sees end only after draining', () => {
    const r = Ring.create(1, 4);
    r.data[r.tryReserve()] = 42;
    r.close();
    expect(r.isProducerClosed()).toBe(true);
    expect(r.isClosed()).toBe(false);
    expect(r.waitForData(0)).toBe(true);
    expect(r.data[r.peek()]).toBe(42);
    r.advance();
    expect(r.isClosed()).toBe(true);
    expect(r.waitForData()).toBe(true); // never blocks once closed
  });

  it('waitForData times out on an empty open ring', () => {
    const r = Ring.create(1, 4);
    expect(r.waitForData(5)).toBe(false);
  });

  it('abandon wakes a producer blocked on a full ring', () => {
    const r = Ring.create(1, 2);
    r.reserve();
    r.reserve();
    r.abandon();
    expect(() => r.reserve()).toThrow(RingAbandonedError);
  });

  it('worker producer -> main-thread consumer: 1,000,000 records with back-pressure and content checks', async () => {
    const slots = 4;
    const total = 1_000_000;
    const ring = Ring.create(slots, 1024);
    const ringUrl = new URL('./ring.ts', import.meta.url).href;
    // The worker imports the .ts source through tsx (registered inside the worker, see worker-url.ts).
    const code = `
      const { workerData } = require('node:worker_threads');
      import(workerData.tsxApi).then((api) => { api.register(); return import(workerData.ringUrl); }).then(({ Ring }) => {
        const r = Ring.attach(workerData.sab);
        for (let i = 0; i < workerData.total; i++) {
          const o = r.reserve();
          r.data[o] = i; r.data[o + 1] = -i; r.data[o + 2] = i * 0.5; r.data[o + 3] = i % 977;
          if ((i & 255) === 255) r.commit();
        }
        r.close();
      });`;
    const w = new Worker(code, { eval: true, workerData: { sab: ring.sab, ringUrl, total, tsxApi: tsxEsmApiUrl(import.meta.url) } });
    const exited = new Promise<number>((resolve, reject) => {
      w.on('error', reject);
      w.on('exit', resolve);
    });
    let n = 0;
    let bad = -1;
    for (;;) {
      let o = ring.peek();
      if (o < 0) {
        if (ring.isClosed()) break;
        // A blocked producer proves back-pressure; an overly long wait means the worker died.
        expect(ring.waitForData(30_000)).toBe(true);
        continue;
      }
      // Drain the whole visible batch before releasing it, as a real consumer would.
      const avail = ring.available();
      for (let k = 0; k < avail; k++) {
        o = ring.peek();
        const d = ring.data;
        if (bad < 0 && (d[o] !== n || d[o + 1] !== -n || d[o + 2] !== n * 0.5 || d[o + 3] !== n % 977)) bad = n;
        ring.advance();
        n++;
      }
    }
    expect(bad).toBe(-1);
    expect(n).toBe(total);
    expect(await exited).toBe(0);
  }, 30_000);
});
