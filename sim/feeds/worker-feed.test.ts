import { describe, expect, it } from 'vitest';
import { COMMAND_SLOTS, CommandRecord, CommandType, encodeCommand } from '../../engine/command.js';
import { inlineFeed, type FeedSpec } from './feed.js';
import type { SyntheticFeedParams } from './synthetic.js';
import { workerFeed } from './worker-feed.js';

const SEC = 1_000_000_000;

function params(instrument: number, ordersMax: number): SyntheticFeedParams {
  return {
    instrument,
    account: 10 + instrument,
    startNs: 9 * 3600 * SEC,
    endNs: 17 * 3600 * SEC,
    ordersMax,
    limitRatePerSec: 400 + 100 * instrument,
    cancelRatePerSec: 250,
    marketRatePerSec: 40,
    referencePriceTicks: 10_000 * (instrument + 1),
    tickVolatility: 3,
    depthTicks: 25,
    sizeMinLots: 1,
    sizeMaxLots: 50,
    clOrdIdStart: 1 + instrument * 10_000_000,
  };
}

const specsFor = (seed: number | string, ordersMax: number): FeedSpec[] => [
  { kind: 'synthetic', params: params(0, ordersMax), seed },
  { kind: 'synthetic', params: params(1, ordersMax), seed },
];

/** Compare worker output to inline output command by command, on their encoded Float64 slots. Returns the counts. */
function compareStreams(specs: FeedSpec[], opts?: Parameters<typeof workerFeed>[1]): { commands: number; orders: number } {
  const inline = inlineFeed(specs);
  const threaded = workerFeed(specs, opts);
  const a = new CommandRecord();
  const b = new CommandRecord();
  const ea = new Float64Array(COMMAND_SLOTS);
  const eb = new Float64Array(COMMAND_SLOTS);
  let n = 0;
  let orders = 0;
  try {
    for (;;) {
      const ha = inline.next(a);
      const hb = threaded.next(b);
      if (ha !== hb) throw new Error(`streams differ in length at command ${n}: inline ${ha}, worker ${hb}`);
      if (!ha) return { commands: n, orders };
      if (a.type === CommandType.Submit) orders++;
      encodeCommand(a, ea, 0);
      encodeCommand(b, eb, 0);
      for (let s = 0; s < COMMAND_SLOTS; s++) {
        if (!Object.is(ea[s], eb[s])) throw new Error(`command ${n} slot ${s}: inline ${ea[s]}, worker ${eb[s]}`);
      }
      n++;
    }
  } finally {
    void threaded.close();
  }
}

describe('workerFeed', () => {
  for (const seed of [1, 2, 'x7']) {
    it(`matches inlineFeed slot for slot (seed ${seed})`, () => {
      const r = compareStreams(specsFor(seed, 20_000));
      expect(r.orders).toBe(40_000);
      expect(r.commands).toBeGreaterThan(50_000); // the cancels on top of the orders
    });
  }

  it('matches inlineFeed over 1,000,000 commands with a small ring (back-pressure both ways)', () => {
    const r = compareStreams(specsFor(99, 330_000), { capacityRecords: 1024, batchRecords: 100 });
    expect(r.orders).toBe(660_000);
    expect(r.commands).toBeGreaterThan(1_000_000);
  }, 30_000);

  it('yields nothing for empty specs and works with ready()', async () => {
    const f = workerFeed([]);
    await f.ready();
    expect(f.next(new CommandRecord())).toBe(false);
    await f.close();
  });

  it('a bad spec in the worker surfaces as a thrown Error with its message, not a hang', () => {
    const bad = specsFor(1, 10);
    bad[1] = { kind: 'synthetic', params: { ...params(1, 10), sizeMinLots: 9, sizeMaxLots: 2 }, seed: 1 };
    const f = workerFeed(bad);
    expect(() => f.next(new CommandRecord())).toThrow(/feed worker failed: .*sizeMinLots/);
    // And stays failed.
    expect(() => f.next(new CommandRecord())).toThrow(/feed worker failed/);
    void f.close();
    const g = workerFeed([{ kind: 'nonsense' } as unknown as FeedSpec]);
    expect(() => g.next(new CommandRecord())).toThrow(/feed spec kind/);
    void g.close();
  });

  it('a worker script that cannot load fails next() after the start timeout and rejects ready()', async () => {
    const f = workerFeed(specsFor(1, 10), { scriptBaseName: 'no-such-worker', startTimeoutMs: 1000 });
    await expect(f.ready()).rejects.toThrow(/no-such-worker/);
    expect(() => f.next(new CommandRecord())).toThrow(/no-such-worker|did not start/);
    await f.close();
    const g = workerFeed(specsFor(1, 10), { scriptBaseName: 'no-such-worker', startTimeoutMs: 500 });
    // Without awaiting anything the error event cannot be delivered; the start timeout ends the wait.
    expect(() => g.next(new CommandRecord())).toThrow(/did not start within 500 ms/);
    await g.close();
  });

  it('close() stops a worker blocked on a full ring', async () => {
    const f = workerFeed(specsFor(3, 1_000_000), { capacityRecords: 256 });
    const c = new CommandRecord();
    for (let i = 0; i < 1000; i++) expect(f.next(c)).toBe(true);
    await f.close();
  });
});
