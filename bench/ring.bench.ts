/**
 * Throughput of the runtime plumbing: synthetic generation (inline), raw ring
 * transfer worker -> main, and workerFeed end to end.
 *   npx tsx bench/ring.bench.ts            (or node dist/bench/ring.bench.js after a build)
 */
import { Worker } from 'node:worker_threads';
import { COMMAND_SLOTS, CommandRecord } from '../engine/command.js';
import { inlineFeed, type FeedSpec } from '../sim/feeds/feed.js';
import { workerFeed } from '../sim/feeds/worker-feed.js';
import { Ring } from '../sim/ring.js';
import { tsxEsmApiUrl } from '../sim/worker-url.js';

const SEC = 1_000_000_000;
const N = Number(process.argv[2] ?? 2_000_000);

function specs(ordersMaxEach: number): FeedSpec[] {
  return [0, 1].map((i) => ({
    kind: 'synthetic' as const,
    seed: 42,
    params: {
      instrument: i, account: i, startNs: 0, endNs: 24 * 3600 * SEC, ordersMax: ordersMaxEach,
      limitRatePerSec: 500, cancelRatePerSec: 300, marketRatePerSec: 50,
      referencePriceTicks: 10_000, tickVolatility: 3, depthTicks: 25, sizeMinLots: 1, sizeMaxLots: 50, clOrdIdStart: 1 + i * 100_000_000,
    },
  }));
}

function report(name: string, n: number, ms: number): void {
  console.log(`${name.padEnd(44)} ${n.toLocaleString('en-US').padStart(11)} in ${ms.toFixed(0).padStart(6)} ms = ${((n / ms) * 1000 / 1e6).toFixed(2)} M/s`);
}

function benchInline(): void {
  const f = inlineFeed(specs(N / 2));
  const c = new CommandRecord();
  const t0 = performance.now();
  let n = 0;
  while (f.next(c)) n++;
  report('synthetic generation, 2 feeds merged, inline', n, performance.now() - t0);
}

async function benchRing(): Promise<void> {
  const ring = Ring.create(COMMAND_SLOTS, 1 << 14);
  const isTs = import.meta.url.endsWith('.ts');
  const ringUrl = new URL(`../sim/ring.${isTs ? 'ts' : 'js'}`, import.meta.url).href;
  const code = `
    const { workerData } = require('node:worker_threads');
    (workerData.tsxApi ? import(workerData.tsxApi).then((a) => a.register()) : Promise.resolve())
      .then(() => import(workerData.ringUrl)).then(({ Ring }) => {
        const r = Ring.attach(workerData.sab);
        const d = r.data;
        for (let i = 0; i < workerData.n; i++) {
          const o = r.reserve();
          for (let s = 0; s < ${COMMAND_SLOTS}; s++) d[o + s] = i + s;
          if ((i & 255) === 255) r.commit();
        }
        r.close();
      });`;
  const w = new Worker(code, { eval: true, workerData: { sab: ring.sab, ringUrl, n: N, tsxApi: isTs ? tsxEsmApiUrl(import.meta.url) : null } });
  const exit = new Promise((res) => w.on('exit', res));
  ring.waitForData(); // exclude the worker's start-up from the timing
  const t0 = performance.now();
  let n = 0;
  let sum = 0;
  for (;;) {
    const avail = ring.available();
    if (avail === 0) {
      if (ring.isClosed()) break;
      ring.waitForData();
      continue;
    }
    for (let k = 0; k < avail; k++) {
      sum += ring.data[ring.peek()]!;
      ring.advance();
    }
    n += avail;
  }
  report(`ring worker -> main, ${COMMAND_SLOTS} slots/record`, n, performance.now() - t0);
  if (sum !== (N * (N - 1)) / 2) throw new Error('ring bench: content mismatch');
  await exit;
}

async function benchWorkerFeed(): Promise<void> {
  const f = workerFeed(specs(N / 2));
  await f.ready();
  const c = new CommandRecord();
  const t0 = performance.now();
  let n = 0;
  while (f.next(c)) n++;
  report('workerFeed (generate in worker, decode on main)', n, performance.now() - t0);
  await f.close();
}

benchInline();
await benchRing();
await benchWorkerFeed();
