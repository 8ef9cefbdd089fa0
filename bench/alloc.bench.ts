/**
 * What the hot paths allocate: the risk bench's command stream (bench/risk.bench.ts: limits,
 * cancels, modifies and markets from 16 accounts) through the exchange alone, with pre-trade
 * risk, and with the whole back office, under V8's sampling heap profiler with collected
 * objects included, after warm-up runs (interpreted code boxes numbers as it goes; the rule
 * is about the optimized steady state).
 *
 * The core's rule is that matching and risk allocate nothing per order; a run still builds
 * its exchange, books and risk (a few KB), so the figure is bytes per command, and the test
 * (test/hot-path-alloc.test.ts) holds matching and risk under 2 at 200k commands a run.
 * Before session 9 matching allocated ~40 bytes a command (assertion messages built on every
 * call, and a Map per account of client order ids), and garbage collection took ~4% of its time.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/alloc.bench.js [--json] [commands] [matching|risk|back-office...]
 */
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { generate, runOnce, type BenchMode } from './risk.bench.js';

const WARM_RUNS = 8;
const RUNS = 2;
const WINDOWS = 3;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

export interface Allocation {
  mode: BenchMode;
  commands: number;
  bytesPerCommand: number;
  /** The largest allocating functions: "KB function file:line". */
  top: string[];
}

/**
 * The quietest of WINDOWS sampling windows of RUNS runs each. A window can catch V8
 * re-optimizing (the bench loop is compiled on-stack and leaves its optimized code at the end
 * of each run), and code running unoptimized boxes numbers; an allocation per order shows in
 * every window, so the floor is the steady state the rule is about.
 */
export async function measureAllocation(mode: BenchMode, commands = 50_000): Promise<Allocation> {
  const s = generate(commands);
  for (let i = 0; i < WARM_RUNS; i++) runOnce(s, mode);
  const session = new Session();
  session.connect();
  let best: Allocation | null = null;
  try {
    for (let w = 0; w < WINDOWS; w++) {
      // The collected-objects flags are in V8's protocol but not in Node's typings.
      await session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as { samplingInterval: number });
      for (let i = 0; i < RUNS; i++) runOnce(s, mode);
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
      const a = summarize(mode, RUNS * commands, profile.head);
      if (best === null || a.bytesPerCommand < best.bytesPerCommand) best = a;
    }
  } finally {
    session.disconnect();
  }
  return best!;
}

function summarize(mode: BenchMode, commands: number, head: ProfileNode): Allocation {
  const by = new Map<string, number>();
  let bytes = 0;
  const walk = (n: ProfileNode): void => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      by.set(k, (by.get(k) ?? 0) + n.selfSize);
      bytes += n.selfSize;
    }
    n.children.forEach(walk);
  };
  walk(head);
  const top = [...by]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([k, v]) => `${(v / 1024).toFixed(0)} KB ${k}`);
  return { mode, commands, bytesPerCommand: bytes / commands, top };
}

const MODES: readonly BenchMode[] = ['matching', 'risk', 'back-office'];

/**
 * Each mode in a worker of its own (a fresh V8 isolate): what a mode allocates depends on
 * what the isolate compiled before it. In one process after the risk bench, whose replay
 * of Risk's calls uses a recording subclass, Risk's update ran less optimized and
 * allocated ~4 bytes a command that a run on its own does not.
 */
export async function runAllocBench(commands?: number, modes: readonly BenchMode[] = MODES): Promise<Allocation[]> {
  const out: Allocation[] = [];
  for (const mode of modes) {
    out.push(
      await new Promise<Allocation>((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { allocBench: { mode, commands } } });
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
    `allocation once warm, the risk bench's stream (sampled by V8's heap profiler, collected objects included; each run's own setup counts, ~0.3-1 B/command at 50k commands a run; quietest of 3 windows)`,
    ...rs.map((r) => `  ${r.mode.padEnd(12)} ${r.bytesPerCommand.toFixed(2).padStart(7)} bytes/command  (largest: ${r.top.slice(0, 3).join('; ') || 'none'})`),
  ].join('\n');
}

if (!isMainThread && (workerData as { allocBench?: unknown } | null)?.allocBench !== undefined) {
  const { mode, commands } = (workerData as { allocBench: { mode: BenchMode; commands?: number } }).allocBench;
  parentPort!.postMessage(await measureAllocation(mode, commands));
} else if (isMainThread && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const n = args.find((a) => /^[0-9]+$/.test(a));
  const modes = args.filter((a) => MODES.includes(a as BenchMode)) as BenchMode[];
  const bad = args.filter((a) => a !== n && !MODES.includes(a as BenchMode));
  if (bad.length > 0 || (n !== undefined && !(Number(n) >= 1))) {
    process.stderr.write(`usage: node dist/bench/alloc.bench.js [--json] [commands] [${MODES.join('|')}...]\n`);
    process.exit(2);
  }
  const rs = await runAllocBench(n !== undefined ? Number(n) : undefined, modes.length > 0 ? modes : MODES);
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(rs) + '\n' : formatAllocBench(rs) + '\n');
}
