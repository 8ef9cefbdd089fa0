/**
 * The cost of a strategy: the 1,000,000-order synthetic day (scenarios/synthetic-1m.json)
 * run as is, and again with the example market maker (strategies/market-maker.ts) quoting
 * into it with feed, order and ack latency drawn per message. Same process, audit off,
 * feed and writers inline in both, so the ratio isolates the strategy's handlers, its
 * latency channels and its record keeping. Target: ratio <= 2.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/backtest.bench.js
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runScenario } from '../sim/run.js';
import { parseScenario } from '../sim/scenario.js';

export interface BacktestBenchResult {
  baselineMs: number;
  strategyMs: number;
  /** CPU time (user + system) of the process: on a shared machine wall time also measures the neighbours. */
  baselineCpuMs: number;
  strategyCpuMs: number;
  /** strategyCpuMs / baselineCpuMs. */
  ratio: number;
  wallRatio: number;
  baselineEvents: number;
  strategyEvents: number;
  strategyOrders: string;
  strategyFills: string;
}

function repoRoot(): string {
  // dist/bench/x.js or bench/x.ts: the repository is the folder holding scenarios/.
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '..', '..') : join(here, '..');
}

export async function runBacktestBench(reps = 1): Promise<BacktestBenchResult> {
  const root = repoRoot();
  const file = join(root, 'scenarios', 'synthetic-1m.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { accounts: unknown[] };
  const base = parseScenario(JSON.stringify(raw), file);
  const withMm = structuredClone(raw) as typeof raw & { strategies?: unknown[] };
  withMm.accounts.push({ id: 'mm' });
  withMm.strategies = [
    {
      module: '../strategies/market-maker.ts',
      account: 'mm',
      params: { spreadTicks: 2, sizeLots: 5, maxPosition: 50, skewTicksPerLot: 0.1 },
      latency: {
        feed: { type: 'constant', ns: 50_000 },
        order: { type: 'lognormal', medianNs: 100_000, sigma: 0.5, maxNs: 1_000_000 },
        ack: { type: 'uniform', minNs: 40_000, maxNs: 60_000 },
      },
      fees: { makerBps: -0.2, takerBps: 0.5 },
    },
  ];
  const strat = parseScenario(JSON.stringify(withMm), file);
  const work = mkdtempSync(join(tmpdir(), 'exsim-bt-bench-'));
  try {
    const once = async (sc: typeof base, dir: string) => {
      const t = performance.now();
      const c = process.cpuUsage();
      const r = await runScenario({ scenario: sc, outDir: join(work, dir), feedThread: 'inline', outputThread: 'inline', audit: false });
      const cu = process.cpuUsage(c);
      const ms = performance.now() - t;
      rmSync(join(work, dir), { recursive: true, force: true });
      return { ms, cpuMs: (cu.user + cu.system) / 1000, r };
    };
    let baselineMs = Infinity;
    let strategyMs = Infinity;
    let baselineCpuMs = Infinity;
    let strategyCpuMs = Infinity;
    let baselineEvents = 0;
    let strategyEvents = 0;
    let orders = '';
    let fills = '';
    // Alternate the two so machine load drifts hit both alike; keep the best of each.
    for (let k = 0; k < reps; k++) {
      const a = await once(base, 'base');
      baselineMs = Math.min(baselineMs, a.ms);
      baselineCpuMs = Math.min(baselineCpuMs, a.cpuMs);
      baselineEvents = a.r.summary.events;
      const b = await once(strat, 'mm');
      strategyMs = Math.min(strategyMs, b.ms);
      strategyCpuMs = Math.min(strategyCpuMs, b.cpuMs);
      strategyEvents = b.r.summary.events;
      const m = (b.r.summary.extra?.['strategies'] as Record<string, Record<string, string>>)['mm']!;
      orders = m['orders']!;
      fills = m['fills']!;
    }
    return { baselineMs, strategyMs, baselineCpuMs, strategyCpuMs, ratio: strategyCpuMs / baselineCpuMs, wallRatio: strategyMs / baselineMs, baselineEvents, strategyEvents, strategyOrders: orders, strategyFills: fills };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatBacktestBench(r: BacktestBenchResult): string {
  return [
    `synthetic-1m without a strategy: ${(r.baselineCpuMs / 1000).toFixed(2)} s CPU (${(r.baselineMs / 1000).toFixed(2)} s wall), ${r.baselineEvents.toLocaleString('en-US')} events`,
    `synthetic-1m with the market maker: ${(r.strategyCpuMs / 1000).toFixed(2)} s CPU (${(r.strategyMs / 1000).toFixed(2)} s wall), ${r.strategyEvents.toLocaleString('en-US')} events (${r.strategyOrders} strategy orders, ${r.strategyFills} fills)`,
    `ratio: ${r.ratio.toFixed(2)}x CPU, ${r.wallRatio.toFixed(2)}x wall (target <= 2.00x)`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const reps = Number(process.argv[2] ?? 2);
  const r = await runBacktestBench(reps);
  process.stdout.write(formatBacktestBench(r) + '\n');
}
