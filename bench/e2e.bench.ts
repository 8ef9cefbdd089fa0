/**
 * End to end: a whole scenario through runScenario (feed, matching, output),
 * in several configurations measured in the same process one after another,
 * so their ratios share the machine's load at that moment. Prints events/s of
 * wall time and where the time went (feed wait, matching+emit, output drain),
 * then ratios between configurations.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/e2e.bench.js [scenario.json] [reps]
 *
 * Default scenario: scenarios/synthetic-1m.json (1,000,000 orders + ~820,000 cancels, ~3.34 M events).
 * Each configuration runs `reps` times (default 2) in round-robin order; the
 * median run is reported (min and max beside it). On a shared machine, read the
 * load average printed with the results before comparing across runs.
 *
 *   node dist/bench/e2e.bench.js scenarios/synthetic-1m.json 3 --against /tmp/base/dist/bench/e2e.bench.js
 *
 * compares this build with another, alternating (see runE2EAgainst).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runScenario, type RunTimings, type Threading } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';

export interface E2EConfig {
  name: string;
  audit: boolean;
  feedThread: Threading;
  outputThread: Threading;
}

export interface E2EBenchRow {
  name: string;
  events: number;
  /** Median run by wall time. */
  median: RunTimings;
  minEventsPerSec: number;
  maxEventsPerSec: number;
}

export interface E2EBenchResult {
  scenario: string;
  rows: E2EBenchRow[];
  /** name: "a / b" -> wall-time events/s of a divided by b's. */
  ratios: Array<{ name: string; ratio: number }>;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
}

export const E2E_CONFIGS: readonly E2EConfig[] = [
  { name: 'audit on, feed worker, output worker', audit: true, feedThread: 'worker', outputThread: 'worker' },
  { name: 'audit on, feed inline, output worker', audit: true, feedThread: 'inline', outputThread: 'worker' },
  { name: 'audit off, feed worker, output worker', audit: false, feedThread: 'worker', outputThread: 'worker' },
  { name: 'audit off, feed inline, output worker', audit: false, feedThread: 'inline', outputThread: 'worker' },
];

export async function runE2EBench(scenarioFile = 'scenarios/synthetic-1m.json', reps = 2, configs: readonly E2EConfig[] = E2E_CONFIGS): Promise<E2EBenchResult> {
  const scenario = loadScenario(scenarioFile);
  const root = mkdtempSync(join(tmpdir(), 'exsim-e2e-bench-'));
  const runs = new Map<string, { events: number; t: RunTimings }[]>(configs.map((c) => [c.name, []]));
  const loadAvgBefore = loadavg();
  try {
    for (let r = 0; r < reps; r++) {
      for (const c of configs) {
        const outDir = join(root, `run-${r}`);
        const res = await runScenario({ scenario, outDir, audit: c.audit, feedThread: c.feedThread, outputThread: c.outputThread, wallMs: () => performance.now() });
        rmSync(outDir, { recursive: true, force: true });
        runs.get(c.name)!.push({ events: res.summary.events, t: res.timings! });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const rows = configs.map((c): E2EBenchRow => {
    const rs = [...runs.get(c.name)!].sort((a, b) => a.t.wallMs - b.t.wallMs);
    const eps = rs.map((x) => x.t.eventsPerSecond);
    return { name: c.name, events: rs[0]!.events, median: rs[(rs.length - 1) >> 1]!.t, minEventsPerSec: Math.min(...eps), maxEventsPerSec: Math.max(...eps) };
  });
  const byName = new Map(rows.map((r) => [r.name, r.median.eventsPerSecond]));
  const ratio = (a: string, b: string): { name: string; ratio: number } | null =>
    byName.has(a) && byName.has(b) ? { name: `${a} / ${b}`, ratio: byName.get(a)! / byName.get(b)! } : null;
  const ratios = [
    ratio(E2E_CONFIGS[0]!.name, E2E_CONFIGS[2]!.name),
    ratio(E2E_CONFIGS[1]!.name, E2E_CONFIGS[3]!.name),
    ratio(E2E_CONFIGS[1]!.name, E2E_CONFIGS[0]!.name),
    ratio(E2E_CONFIGS[3]!.name, E2E_CONFIGS[2]!.name),
  ].filter((x): x is { name: string; ratio: number } => x !== null);
  return { scenario: scenario.name, rows, ratios, loadAvgBefore, loadAvgAfter: loadavg() };
}

export function printE2EBench(r: E2EBenchResult): void {
  const s = (ms: number): string => (ms / 1000).toFixed(2).padStart(6);
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`e2e bench: ${r.scenario}, node ${process.version}, load average before ${la(r.loadAvgBefore)}, after ${la(r.loadAvgAfter)}`);
  console.log(`${'configuration'.padEnd(40)} ${'events/s'.padStart(10)} ${'(min-max)'.padStart(19)}   wall s   feed s  match s  drain s`);
  for (const row of r.rows) {
    const t = row.median;
    const range = `${Math.round(row.minEventsPerSec / 1000)}k-${Math.round(row.maxEventsPerSec / 1000)}k`;
    console.log(
      `${row.name.padEnd(40)} ${Math.round(t.eventsPerSecond).toLocaleString('en-US').padStart(10)} ${range.padStart(19)}   ${s(t.wallMs)}   ${s(t.feedWaitMs)}   ${s(t.matchingMs)}   ${s(t.outputDrainMs)}`,
    );
  }
  for (const x of r.ratios) console.log(`ratio ${x.name}: ${x.ratio.toFixed(2)}`);
  // The audit runs on threads of its own, so its cost shows as the wall time it adds.
  const wall = new Map(r.rows.map((row) => [row.name, row.median.wallMs]));
  for (const feed of ['worker', 'inline']) {
    const on = wall.get(`audit on, feed ${feed}, output worker`);
    const off = wall.get(`audit off, feed ${feed}, output worker`);
    if (on !== undefined && off !== undefined) console.log(`audit cost, feed ${feed}: ${((on - off) / 1000).toFixed(2)} s of wall time (audit on ${(on / 1000).toFixed(2)} s, off ${(off / 1000).toFixed(2)} s)`);
  }
}

/**
 * A/B against another build of this file (e.g. HEAD compiled in a scratch
 * checkout): one audit-on configuration, the two builds alternating run by
 * run so both see the same load, walls listed per build. This is how a change
 * to the output path is judged on a shared 2-core box, where load from other
 * processes moves single runs by +-30%.
 */
export async function runE2EAgainst(file: string, reps: number, otherBenchJs: string): Promise<void> {
  const other = (await import(pathToFileURL(otherBenchJs).href)) as { runE2EBench: typeof runE2EBench };
  const cfg = [E2E_CONFIGS[1]!];
  const walls: Record<'this' | 'other', number[]> = { this: [], other: [] };
  for (let r = 0; r < reps; r++) {
    for (const [k, run] of [['other', other.runE2EBench], ['this', runE2EBench]] as const) {
      const la = loadavg()[0]!.toFixed(2);
      const t = (await run(file, 1, cfg)).rows[0]!.median;
      walls[k].push(t.wallMs);
      console.log(`${k.padEnd(5)} wall ${(t.wallMs / 1000).toFixed(2)} s  match ${(t.matchingMs / 1000).toFixed(2)} s  drain ${(t.outputDrainMs / 1000).toFixed(2)} s  load ${la}`);
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
  for (const k of ['other', 'this'] as const) console.log(`${k}: walls ${walls[k].map((x) => (x / 1000).toFixed(2)).join(' ')} s, median ${(med(walls[k]) / 1000).toFixed(2)} s`);
  console.log(`median speed-up this / other: ${(med(walls.other) / med(walls.this)).toFixed(2)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? 'scenarios/synthetic-1m.json';
  const reps = Number(process.argv[3] ?? 2);
  // node dist/bench/e2e.bench.js <scenario> <reps> --against /path/to/other/dist/bench/e2e.bench.js
  if (process.argv[4] === '--against' && process.argv[5] !== undefined) await runE2EAgainst(file, reps, process.argv[5]);
  else printE2EBench(await runE2EBench(file, reps));
}
