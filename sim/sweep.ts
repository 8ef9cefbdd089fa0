import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from './errors.js';
import { loadScenario, type Scenario } from './scenario.js';
import { computeMetrics, metricsRow } from './strategy/metrics.js';
import { toCsv, type Cell, type Table } from './strategy/outputs.js';
import { BacktestRecord } from './strategy/record.js';
import { workerScript } from './worker-url.js';

/**
 * Parameter sweeps: the grid of strategy parameter values x seeds, each run a
 * complete, independent, deterministic backtest on a worker thread. Results
 * are collected by run number, so sweep.csv is the same bytes whatever the
 * number of workers or the order runs finish in.
 */

export interface SweepParam {
  /** "spreadTicks" (every strategy with that param... or none: it is set on every strategy), or "mm.spreadTicks" (strategy mm only). */
  name: string;
  values: unknown[];
}

export interface SweepJob {
  run: number;
  seed: number;
  params: { name: string; value: unknown }[];
}

export interface SweepOptions {
  scenarioFile: string;
  params: SweepParam[];
  seeds: number[];
  workers: number;
  /** Column of sweep.csv to rank by (a metric name; "<strategy>.<metric>" with several strategies). */
  metric: string;
  outDir: string;
  /** Rank ascending (for drawdown-like metrics); default descending. */
  ascending?: boolean;
  progress?: (done: number, total: number) => void;
  /** Where the runs' scratch directories go (the caller removes it if interrupted); default the system's temp dir. */
  workRoot?: string;
}

export interface SweepResult {
  table: Table;
  /** Rows of `table` ranked by the metric, best first (ties: lower run number). */
  ranked: Cell[][];
  metricColumn: number;
  csvPath: string;
}

export type SweepWorkerRequest = { scenarioFile: string; job: SweepJob; workRoot?: string };
export type SweepWorkerReply = { run: number; metrics?: Record<string, Record<string, string>>; error?: string; userError?: boolean };

export const SWEEP_RUNS_MAX = 100_000;
export const SWEEP_WORKERS_MAX = 64;

/** "v1,v2,..." -> values; each is JSON when it parses as JSON (numbers, true, "quoted"), else the text itself. */
export function parseParam(spec: string): SweepParam {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new UserError(`--param: expected name=v1,v2,..., got ${JSON.stringify(spec)}`);
  const name = spec.slice(0, eq);
  const values = spec
    .slice(eq + 1)
    .split(',')
    .map((v) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    });
  return { name, values };
}

/** "1..20", "3", "1,5,9" -> seeds. */
export function parseSeeds(spec: string): number[] {
  const m = /^(\d+)\.\.(\d+)$/.exec(spec);
  const out: number[] = [];
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (b < a || b - a >= SWEEP_RUNS_MAX) throw new UserError(`--seeds: expected a range lo..hi with lo <= hi and at most ${SWEEP_RUNS_MAX} seeds, got ${JSON.stringify(spec)}`);
    for (let s = a; s <= b; s++) out.push(s);
    return out;
  }
  for (const p of spec.split(',')) {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new UserError(`--seeds: expected a range like 1..20 or a list like 1,2,3, got ${JSON.stringify(spec)}`);
    out.push(Number(p));
  }
  return out;
}

/** The grid in a fixed order: the first param varies slowest, seeds fastest. */
export function sweepJobs(params: SweepParam[], seeds: number[]): SweepJob[] {
  let combos: { name: string; value: unknown }[][] = [[]];
  for (const p of params) combos = combos.flatMap((c) => p.values.map((value) => [...c, { name: p.name, value }]));
  const jobs: SweepJob[] = [];
  for (const c of combos) for (const seed of seeds) jobs.push({ run: jobs.length + 1, seed, params: c });
  if (jobs.length > SWEEP_RUNS_MAX) throw new UserError(`the sweep has ${jobs.length} runs; at most ${SWEEP_RUNS_MAX} are allowed`);
  return jobs;
}

/** Apply a job's params to the scenario's raw JSON (strategies[].params). */
export function applySweepParams(raw: unknown, job: SweepJob, file: string): unknown {
  const sc = structuredClone(raw) as { strategies?: { name?: string; account?: string; params?: Record<string, unknown> }[] };
  const strategies = sc.strategies ?? [];
  if (strategies.length === 0) throw new UserError(`${file}: the scenario has no strategies to sweep`);
  for (const { name, value } of job.params) {
    const dot = name.indexOf('.');
    const target = dot > 0 ? name.slice(0, dot) : null;
    const key = dot > 0 ? name.slice(dot + 1) : name;
    let hit = false;
    for (const s of strategies) {
      if (target !== null && (s.name ?? s.account) !== target) continue;
      s.params = { ...(s.params ?? {}), [key]: value };
      hit = true;
    }
    if (!hit) throw new UserError(`--param ${name}: no strategy named ${JSON.stringify(target)} in ${file}; expected one of ${strategies.map((s) => JSON.stringify(s.name ?? s.account)).join(', ')}`);
  }
  return sc;
}

/**
 * Checks the --param names against the scenario before any run: each must be a param the
 * scenario sets on a strategy (a sweep varies params; one that no strategy reads would give
 * identical runs), none may be given twice (also as "name" and "mm.name" for the same
 * strategy), and no value may repeat.
 */
export function checkSweepParams(sc: Scenario, params: readonly SweepParam[]): void {
  const all = sc.strategies.flatMap((s) => Object.keys(s.params).map((k) => `${s.name}.${k}`));
  const offer = () => (all.length === 0 ? `the strategies of ${sc.file} set no params (add them to strategies[].params first)` : `expected one of ${all.map((c) => JSON.stringify(c)).join(', ')} (or the part after the dot, for every strategy that sets it)`);
  const taken = new Map<string, string>();
  for (const p of params) {
    const dot = p.name.indexOf('.');
    const target = dot > 0 ? p.name.slice(0, dot) : null;
    const key = dot > 0 ? p.name.slice(dot + 1) : p.name;
    if (target !== null && !sc.strategies.some((s) => s.name === target)) {
      throw new UserError(`--param ${p.name}: no strategy named ${JSON.stringify(target)} in ${sc.file}; expected one of ${sc.strategies.map((s) => JSON.stringify(s.name)).join(', ')}`);
    }
    const hits = sc.strategies.filter((s) => (target === null || s.name === target) && Object.prototype.hasOwnProperty.call(s.params, key));
    if (hits.length === 0) throw new UserError(`--param ${p.name}: no strategy in ${sc.file} has a param ${JSON.stringify(key)}${target === null ? '' : ` (strategy ${JSON.stringify(target)})`}; ${offer()}`);
    // An unqualified name is set on every strategy (applySweepParams), so it takes every strategy's key.
    for (const s of target === null ? sc.strategies : hits) {
      const prev = taken.get(`${s.name}.${key}`);
      if (prev !== undefined) throw new UserError(`--param ${p.name}: ${s.name}.${key} is already swept by --param ${prev}; give each param once, with all its values (name=v1,v2,...)`);
      taken.set(`${s.name}.${key}`, p.name);
    }
    const seen = new Set<string>();
    for (const v of p.values) {
      const k = JSON.stringify(v);
      if (seen.has(k)) throw new UserError(`--param ${p.name}: the value ${typeof v === 'string' ? v : k} is given twice; each grid point would run twice`);
      seen.add(k);
    }
  }
}

/** Shortfall columns exist only for strategies that declare parent orders, which only a run shows. */
const RUNTIME_METRIC = /^(?:[^.]+\.)?shortfall\d*(?:Bps|\.(?:instrument|side|targetLots|filledLots|arrivalPrice|avgFillPrice))?$/;

/**
 * The metric columns sweep.csv will have, from the scenario alone: the metrics of an empty
 * record have every column but the shortfall ones. "<strategy>.<metric>" with several strategies.
 */
export function sweepMetricColumns(sc: Scenario): string[] {
  const single = sc.strategies.length === 1;
  const cols: string[] = [];
  for (const s of sc.strategies) {
    const row = metricsRow(computeMetrics(s.name, new BacktestRecord(sc.instruments, s.fees), s.instruments, sc.closeNs - sc.openNs, s.sampleNs));
    for (const k of Object.keys(row)) if (k !== 'strategy') cols.push(single ? k : `${s.name}.${k}`);
  }
  return cols;
}

function unknownMetric(metric: string, cols: readonly string[]): UserError {
  return new UserError(`--metric: ${JSON.stringify(metric)} is not a column of sweep.csv; expected one of ${cols.map((c) => JSON.stringify(c)).join(', ')}${cols.some((c) => c.includes('shortfall')) ? '' : ' (shortfall, shortfallBps, ... when the strategy declares a parent order)'}`);
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > SWEEP_WORKERS_MAX) throw new UserError(`--workers: expected a whole number from 1 to ${SWEEP_WORKERS_MAX}, got ${o.workers}`);
  // Check the file and the params once here, so a bad input fails before any worker starts.
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(o.scenarioFile, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${o.scenarioFile} as JSON: ${(e as Error).message}`);
  }
  const sc = loadScenario(o.scenarioFile);
  if (sc.strategies.length === 0) throw new UserError(`${o.scenarioFile}: the scenario has no strategies to sweep`);
  checkSweepParams(sc, o.params);
  // A misspelt --metric fails now, not after the whole grid has run.
  const expectedCols = sweepMetricColumns(sc);
  if (!expectedCols.includes(o.metric) && !RUNTIME_METRIC.test(o.metric)) throw unknownMetric(o.metric, expectedCols);
  const jobs = sweepJobs(o.params, o.seeds);
  for (const j of jobs.slice(0, 1)) applySweepParams(raw, j, o.scenarioFile);

  const results = new Array<Record<string, Record<string, string>> | undefined>(jobs.length);
  let done = 0;
  let failure: Error | null = null;
  const { url, execArgv } = workerScript(import.meta.url, 'sweep-worker');
  const n = Math.min(o.workers, jobs.length);
  let next = 0;
  const workers: Worker[] = [];
  await new Promise<void>((resolve) => {
    let live = n;
    const finishOne = (w: Worker) => {
      void w.terminate();
      if (--live === 0) resolve();
    };
    for (let k = 0; k < n; k++) {
      const w = new Worker(url, { execArgv });
      workers.push(w);
      const feed = () => {
        if (failure !== null || next >= jobs.length) return finishOne(w);
        const job = jobs[next++]!;
        w.postMessage({ scenarioFile: o.scenarioFile, job, ...(o.workRoot !== undefined ? { workRoot: o.workRoot } : {}) } satisfies SweepWorkerRequest);
      };
      w.on('message', (m: SweepWorkerReply) => {
        if (m.error !== undefined) {
          failure ??= m.userError ? new UserError(`sweep run ${m.run}: ${m.error}`) : new Error(`sweep run ${m.run}: ${m.error}`);
        } else {
          results[m.run - 1] = m.metrics;
          done++;
          o.progress?.(done, jobs.length);
        }
        feed();
      });
      w.on('error', (e) => {
        failure ??= e;
        finishOne(w);
      });
      feed();
    }
  });
  if (failure !== null) throw failure;

  const strategyNames = Object.keys(results[0] ?? {});
  const single = strategyNames.length === 1;
  const paramCols = o.params.map((p) => p.name);
  const metricCols: string[] = [];
  for (const r of results) {
    for (const [s, row] of Object.entries(r ?? {})) {
      for (const k of Object.keys(row)) {
        const col = single ? k : `${s}.${k}`;
        if (!metricCols.includes(col)) metricCols.push(col);
      }
    }
  }
  const columns = ['run', 'seed', ...paramCols, ...metricCols];
  const rows: Cell[][] = jobs.map((j, k) => {
    const r = results[k]!;
    const cells: Cell[] = [j.run, j.seed, ...j.params.map((p) => (typeof p.value === 'string' ? p.value : JSON.stringify(p.value)))];
    for (const col of metricCols) {
      if (single) cells.push(r[strategyNames[0]!]?.[col] ?? null);
      else {
        const dot = col.indexOf('.');
        cells.push(r[col.slice(0, dot)]?.[col.slice(dot + 1)] ?? null);
      }
    }
    return cells;
  });
  const table: Table = { columns, rows };
  mkdirSync(o.outDir, { recursive: true });
  const csvPath = join(o.outDir, 'sweep.csv');
  const tmp = `${csvPath}.partial-${process.pid}`;
  writeFileSync(tmp, toCsv(table));
  renameSync(tmp, csvPath);
  rmSync(tmp, { force: true });
  const metricColumn = columns.indexOf(o.metric);
  // Only a shortfall metric of a strategy that declared no parent order gets here; the runs are kept.
  if (metricColumn < 0) throw new UserError(`${unknownMetric(o.metric, metricCols).message}; the runs are in ${csvPath}`);
  const value = (r: Cell[]) => {
    const v = r[metricColumn];
    const x = v === null || v === '' ? NaN : Number(v);
    return Number.isFinite(x) ? x : null;
  };
  const ranked = [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === vb ? (a[0] as number) - (b[0] as number) : va === null ? 1 : -1;
    if (va !== vb) return o.ascending ? va - vb : vb - va;
    return (a[0] as number) - (b[0] as number);
  });
  return { table, ranked, metricColumn, csvPath };
}
