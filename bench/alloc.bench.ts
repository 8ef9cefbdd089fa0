/**
 * What the hot paths allocate: the risk bench's command stream (bench/risk.bench.ts: limits,
 * cancels, modifies and markets from 16 accounts) through the exchange alone, with pre-trade
 * risk, and with the whole back office, after warm-up runs (interpreted code boxes numbers as
 * it goes; the rule is about the optimized steady state): the V8 heap's used size over runs
 * that no garbage collection interrupted, and the largest allocators from one run under V8's
 * sampling heap profiler.
 *
 * The core's rule is that matching and risk allocate nothing per order; a run still builds
 * its exchange, books and risk (a few KB), so the figure is bytes per command, and the test
 * (test/hot-path-alloc.test.ts) holds matching and risk under 2 at 200k commands a run.
 * Before session 9 matching allocated ~40 bytes a command (assertion messages built on every
 * call, and a Map per account of client order ids), and garbage collection took ~4% of its time.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/alloc.bench.js [--json] [--large-money] [commands] [matching|risk|back-office...]
 *
 * `--large-money` values a lot at LARGE_MONEY times the usual (bench/risk.bench.ts): orders,
 * margins, reservations and exposures beyond 2^31 minor units, as an institution's are.
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { generate, LARGE_MONEY, runOnce, type BenchMode } from './risk.bench.js';

const WARM_RUNS = 8;
/** Runs measured without a collection in them, of at most MAX_RUNS. */
const WINDOWS = 4;
const MAX_RUNS = 16;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

export interface Allocation {
  mode: BenchMode;
  commands: number;
  /** What a lot is worth, as a multiple of the usual (1, or LARGE_MONEY). */
  moneyScale: number;
  bytesPerCommand: number;
  /** Where the figure came from: the heap's used size over runs no collection interrupted, or (when every run was collected) the profiled run's samples. */
  source: 'heap' | 'profiler';
  /** The largest allocating functions in one profiled run: "KB function file:line". */
  top: string[];
}

/**
 * Bytes a run allocates, from the heap's used size before and after it, in the quietest of
 * WINDOWS runs that no garbage collection interrupted (a collection frees and moves memory,
 * so such a run's difference is not what it allocated; runs here are collected mostly for
 * their typed arrays' external memory, about one run in three, and are run again). A window
 * can still catch V8 re-optimizing (the bench loop is compiled on-stack and leaves its
 * optimized code at the end of each run), and code running unoptimized boxes numbers; an
 * allocation per order shows in every window, so the floor is the steady state the rule is
 * about. Then one run under V8's sampling heap profiler names the largest allocating
 * functions. The figure is not taken from the profiler: after its first sampling window, each
 * later run sampled showed ~10 bytes a command for matching and ~40 with risk that the heap's
 * own figures do not, so a figure taken from the profiler held only while its first window
 * caught no re-optimization, and failed the test about one run in six.
 */
export async function measureAllocation(mode: BenchMode, commands = 50_000, moneyScale = 1): Promise<Allocation> {
  const s = generate(commands);
  for (let i = 0; i < WARM_RUNS; i++) runOnce(s, mode, undefined, moneyScale);
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  let best = Number.POSITIVE_INFINITY;
  try {
    for (let w = 0, clean = 0; clean < WINDOWS && w < MAX_RUNS; w++) {
      const before = gcs;
      const u0 = heapUsed();
      runOnce(s, mode, undefined, moneyScale);
      const u1 = heapUsed();
      // GC entries are delivered asynchronously: let them arrive before judging the run.
      await new Promise((r) => setTimeout(r, 5));
      if (gcs !== before) continue;
      clean++;
      best = Math.min(best, (u1 - u0) / commands);
    }
  } finally {
    obs.disconnect();
  }
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as { samplingInterval: number });
    runOnce(s, mode, undefined, moneyScale);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    const top = largest(profile.head);
    // The back office's runs each grow a ledger, and every one of them is collected: its
    // figure can only come from the profiled run (not held by the test).
    if (best === Number.POSITIVE_INFINITY) return { mode, commands, moneyScale, bytesPerCommand: sampled(profile.head) / commands, source: 'profiler', top };
    return { mode, commands, moneyScale, bytesPerCommand: best, source: 'heap', top };
  } finally {
    session.disconnect();
  }
}

function sampled(n: ProfileNode): number {
  let t = n.selfSize;
  for (const c of n.children) t += sampled(c);
  return t;
}

/** Used bytes of every space of the V8 heap. */
function heapUsed(): number {
  let t = 0;
  for (const sp of getHeapSpaceStatistics()) t += sp.space_used_size;
  return t;
}

/** The five functions that allocated most in a profile: "KB function file:line". */
function largest(head: ProfileNode): string[] {
  const by = new Map<string, number>();
  const walk = (n: ProfileNode): void => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      by.set(k, (by.get(k) ?? 0) + n.selfSize);
    }
    n.children.forEach(walk);
  };
  walk(head);
  return [...by]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([k, v]) => `${(v / 1024).toFixed(0)} KB ${k}`);
}

const MODES: readonly BenchMode[] = ['matching', 'risk', 'back-office'];

/**
 * Each mode in a worker of its own (a fresh V8 isolate): what a mode allocates depends on
 * what the isolate compiled before it. In one process after the risk bench, whose replay
 * of Risk's calls uses a recording subclass, Risk's update ran less optimized and
 * allocated ~4 bytes a command that a run on its own does not.
 */
export async function runAllocBench(commands?: number, modes: readonly BenchMode[] = MODES, moneyScale = 1): Promise<Allocation[]> {
  const out: Allocation[] = [];
  for (const mode of modes) {
    out.push(
      await new Promise<Allocation>((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { allocBench: { mode, commands, moneyScale } } });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`alloc bench worker (${mode}) exited with ${code}`)));
      }),
    );
  }
  return out;
}

export function formatAllocBench(rs: Allocation[]): string {
  return [
    `allocation once warm, the risk bench's stream (the V8 heap's used size over a run that no collection interrupted, the quietest of ${WINDOWS}; each run's own setup counts, ~0.3-1 B/command at 50k commands a run; the largest allocators from one run under V8's sampling heap profiler)`,
    ...rs.map((r) => `  ${r.mode.padEnd(12)}${r.moneyScale !== 1 ? ` (lots worth ${r.moneyScale.toLocaleString('en-US')}x)` : ''} ${r.bytesPerCommand.toFixed(2).padStart(7)} bytes/command${r.source === 'profiler' ? ' (every run was collected: sampled by the profiler)' : ''}  (largest: ${r.top.slice(0, 3).join('; ') || 'none'})`),
  ].join('\n');
}

if (!isMainThread && (workerData as { allocBench?: unknown } | null)?.allocBench !== undefined) {
  const { mode, commands, moneyScale } = (workerData as { allocBench: { mode: BenchMode; commands?: number; moneyScale: number } }).allocBench;
  parentPort!.postMessage(await measureAllocation(mode, commands, moneyScale));
} else if (isMainThread && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const n = args.find((a) => /^[0-9]+$/.test(a));
  const modes = args.filter((a) => MODES.includes(a as BenchMode)) as BenchMode[];
  const bad = [...args.filter((a) => a !== n && !MODES.includes(a as BenchMode)), ...process.argv.slice(2).filter((a) => a.startsWith('-') && a !== '--json' && a !== '--large-money')];
  if (bad.length > 0 || (n !== undefined && !(Number(n) >= 1))) {
    process.stderr.write(`usage: node dist/bench/alloc.bench.js [--json] [--large-money] [commands] [${MODES.join('|')}...]\n`);
    process.exit(2);
  }
  const rs = await runAllocBench(n !== undefined ? Number(n) : undefined, modes.length > 0 ? modes : MODES, process.argv.includes('--large-money') ? LARGE_MONEY : 1);
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(rs) + '\n' : formatAllocBench(rs) + '\n');
}
