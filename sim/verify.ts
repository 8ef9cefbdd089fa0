import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario, type RunOptions, type Summary } from './run.js';
import type { Scenario } from './scenario.js';
import { UserError } from './errors.js';

/**
 * Golden files: a scenario's expected output, compared byte for byte.
 * Small runs keep their whole events.ndjson as the golden; large runs keep only
 * summary.json, whose eventsSha256 still pins every byte of the stream. Runs with
 * strategies also keep fills.csv, orders.csv and equity.csv; runs with accounts or
 * payments also keep their report files (GOLDEN_REPORT_FILES).
 */
export const GOLDEN_EVENTS_MAX_BYTES = 4 * 1024 * 1024;
/** Also kept for scenarios with strategies (docs/strategies.md); the NDJSON twins and report.html are the same data. */
export const BACKTEST_GOLDEN_FILES = ['fills.csv', 'orders.csv', 'equity.csv'];

/**
 * Report files a run writes for some scenarios (accounts, payments), pinned beside the events:
 * they are computed after the run from state the events do not carry byte for byte (positions,
 * P&L, reconciliation). Compared and updated when the run writes them; a golden without one
 * that the run writes is a difference. The SQLite files are not pinned (not byte-stable
 * across SQLite versions); their content is in these files and in summary.json.
 */
export const GOLDEN_REPORT_FILES = ['positions.json', 'pnl.json', 'recon.json', 'recon.csv', 'recon-classes.csv'] as const;

export interface GoldenDiff {
  file: string;
  /** 1-based line number of the first difference. */
  line: number;
  expected: string | null;
  actual: string | null;
}

export interface VerifyResult {
  identical: boolean;
  diff: GoldenDiff | null;
  /** With update: what changed, in words. */
  changes: string[];
  summary: Summary;
}

export interface VerifyOptions extends Pick<RunOptions, 'feedThread' | 'outputThread' | 'wallMs' | 'progress'> {
  update?: boolean;
}

export async function verifyGolden(scenario: Scenario, goldenDir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  // Checked before the run: a mistyped --golden is bad input, not "different".
  if (!opts.update) {
    if (!existsSync(goldenDir)) throw new UserError(`${goldenDir}: golden directory not found (create it with --update)`);
    if (!statSync(goldenDir).isDirectory()) throw new UserError(`${goldenDir}: not a directory`);
  }
  const work = mkdtempSync(join(tmpdir(), 'exsim-verify-'));
  try {
    const outDir = join(work, 'out');
    // The audit log is a view of the same events; goldens pin the events themselves.
    const { summary } = await runScenario({ ...opts, scenario, outDir, audit: false });
    // events.ndjson first: any change to the events also changes summary.json's
    // eventsSha256 (and often its counts), and the first differing event is what a
    // reader needs, not the hash line. A backtest's tables are derived from the events
    // but by code of their own (fills, orders, equity per sample): pinned too, so a
    // change there cannot pass as long as the metrics hold.
    const files = [
      'events.ndjson',
      'summary.json',
      ...(scenario.strategies.length > 0 ? BACKTEST_GOLDEN_FILES : []),
      ...GOLDEN_REPORT_FILES.filter((f) => existsSync(join(outDir, f))),
    ];
    let diff: GoldenDiff | null = null;
    for (const f of files) {
      const golden = join(goldenDir, f);
      if (f === 'events.ndjson' && !existsSync(golden) && existsSync(join(goldenDir, 'summary.json'))) continue; // large run: the hash in summary.json pins it
      diff = compareFiles(golden, join(outDir, f), f);
      if (diff) break;
    }
    const changes: string[] = [];
    if (opts.update && diff) {
      mkdirSync(goldenDir, { recursive: true });
      for (const f of files) {
        const src = join(outDir, f);
        const dst = join(goldenDir, f);
        if (f === 'events.ndjson' && statSync(src).size > GOLDEN_EVENTS_MAX_BYTES) {
          if (existsSync(dst)) rmSync(dst);
          changes.push(`${f}: not kept (${statSync(src).size} bytes > ${GOLDEN_EVENTS_MAX_BYTES}); summary.json's eventsSha256 pins it`);
          continue;
        }
        const before = existsSync(dst) ? readFileSync(dst, 'utf8') : null;
        const after = readFileSync(src, 'utf8');
        if (before === after) continue;
        copyFileSync(src, dst);
        changes.push(describeChange(f, before, after));
      }
    }
    return { identical: diff === null, diff, changes, summary };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function compareFiles(goldenPath: string, actualPath: string, name: string): GoldenDiff | null {
  if (!existsSync(goldenPath)) return { file: name, line: 1, expected: '(no golden file)', actual: firstLine(actualPath) };
  const a = readFileSync(goldenPath);
  const b = readFileSync(actualPath);
  if (a.equals(b)) return null;
  const al = a.toString('utf8').split('\n');
  const bl = b.toString('utf8').split('\n');
  const n = Math.max(al.length, bl.length);
  for (let i = 0; i < n; i++) {
    if (al[i] !== bl[i]) return { file: name, line: i + 1, expected: al[i] ?? null, actual: bl[i] ?? null };
  }
  return { file: name, line: n, expected: '(bytes differ)', actual: '(bytes differ)' };
}

function firstLine(path: string): string | null {
  const s = readFileSync(path, 'utf8');
  return s.length === 0 ? null : s.slice(0, s.indexOf('\n') < 0 ? s.length : s.indexOf('\n'));
}

function describeChange(name: string, before: string | null, after: string): string {
  if (before === null) return `${name}: created (${lineCount(after)} lines)`;
  const bl = before.split('\n');
  const al = after.split('\n');
  let first = 0;
  while (first < bl.length && first < al.length && bl[first] === al[first]) first++;
  return `${name}: ${lineCount(before)} -> ${lineCount(after)} lines, first change at line ${first + 1}`;
}

function lineCount(s: string): number {
  return s.length === 0 ? 0 : s.endsWith('\n') ? s.split('\n').length - 1 : s.split('\n').length;
}
