/**
 * LOBSTER replay throughput on the AAPL hour (91,997 messages, 3.8 MB), files
 * already in memory: parse only, parse + replay, and parse + replay + top-1
 * compare against the hour's top-of-book file. Median of timed repetitions
 * after warm-up, so the JIT has settled.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/lobster.bench.js
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { LevelBook } from '../engine/level-book.js';
import { parseLobsterMessages, parseLobsterOrderbook } from '../sim/replay/lobster.js';
import { replayParsed, seedFromBookRow } from '../sim/replay/lobster-replay.js';

export interface LobsterBenchResult {
  messages: number;
  bytes: number;
  parseMsgsPerSec: number;
  parseReplayMsgsPerSec: number;
  parseReplayCompareMsgsPerSec: number;
  parseMs: number;
  parseReplayMs: number;
  parseReplayCompareMs: number;
  matched: number;
  resynced: number;
  targetMsgsPerSec: number;
}

export const LOBSTER_BENCH_TARGET_MSGS_PER_SEC = 5_000_000;

function dataDir(): string {
  // Compiled to dist/bench/, source in bench/: try both depths to reach /work/shared/data.
  for (const up of ['../../shared/data/lobster/', '../../../shared/data/lobster/']) {
    const p = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('LOBSTER bench: ../shared/data/lobster/ not found next to the project');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function time(reps: number, warmup: number, f: () => void): number {
  for (let i = 0; i < warmup; i++) f();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export function runLobsterBench(opts: { reps?: number; warmup?: number } = {}): LobsterBenchResult {
  const reps = opts.reps ?? 15;
  const warmup = opts.warmup ?? 5;
  const dir = dataDir();
  const msgBytes = readFileSync(dir + 'AAPL_2012-06-21_34200000_37800000_message_50.csv');
  const topBytes = readFileSync(dir + 'AAPL_2012-06-21_34200000_37800000_orderbook_50_top1.csv');
  const seedFile = parseLobsterOrderbook(readFileSync(dir + 'AAPL_2012-06-21_orderbook_50_first672.csv'));
  const book = new LevelBook();

  let count = 0;
  const parseMs = time(reps, warmup, () => {
    count = parseLobsterMessages(msgBytes).count;
  });
  const parseReplayMs = time(reps, warmup, () => {
    const m = parseLobsterMessages(msgBytes);
    seedFromBookRow(book, seedFile, 0);
    replayParsed(book, m, null, 0);
  });
  let matched = 0;
  let resynced = 0;
  const parseReplayCompareMs = time(reps, warmup, () => {
    const m = parseLobsterMessages(msgBytes);
    const top = parseLobsterOrderbook(topBytes);
    seedFromBookRow(book, seedFile, 0);
    const r = replayParsed(book, m, top, 1);
    matched = r.matched;
    resynced = r.resynced;
  });
  const rate = (ms: number) => Math.round(count / (ms / 1000));
  return {
    messages: count,
    bytes: msgBytes.length,
    parseMsgsPerSec: rate(parseMs),
    parseReplayMsgsPerSec: rate(parseReplayMs),
    parseReplayCompareMsgsPerSec: rate(parseReplayCompareMs),
    parseMs,
    parseReplayMs,
    parseReplayCompareMs,
    matched,
    resynced,
    targetMsgsPerSec: LOBSTER_BENCH_TARGET_MSGS_PER_SEC,
  };
}

export function formatLobsterBench(r: LobsterBenchResult): string {
  const f = (n: number) => n.toLocaleString('en-US');
  return [
    `LOBSTER AAPL hour: ${f(r.messages)} messages, ${(r.bytes / 1e6).toFixed(2)} MB in memory (median of timed runs)`,
    `  parse only                     ${f(r.parseMsgsPerSec).padStart(12)} msgs/s  (${r.parseMs.toFixed(2)} ms)`,
    `  parse + replay                 ${f(r.parseReplayMsgsPerSec).padStart(12)} msgs/s  (${r.parseReplayMs.toFixed(2)} ms)  target ${f(r.targetMsgsPerSec)}: ${r.parseReplayMsgsPerSec >= r.targetMsgsPerSec ? 'met' : 'NOT met'}`,
    `  parse + replay + top-1 compare ${f(r.parseReplayCompareMsgsPerSec).padStart(12)} msgs/s  (${r.parseReplayCompareMs.toFixed(2)} ms, book file parsed too; ${f(r.matched)} matched, ${r.resynced} resynced)`,
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(formatLobsterBench(runLobsterBench()) + '\n');
}
