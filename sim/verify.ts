import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario, type RunOptions, type Summary } from './run.js';
import type { Scenario } from './scenario.js';
import { UserError } from './errors.js';

/**
 * Golden files: a scenario's expected output, compared byte for byte.
 * Small runs keep their whole events.ndjson as the golden; large runs keep a
 * sample of it (EVENTS_SAMPLE_FILE) beside summary.json, whose eventsSha256 still
 * pins every byte of the stream: the sample is there so that a change shows as an
 * event, expected and actual, not only as a different hash. Runs with
 * strategies also keep fills.csv, orders.csv and equity.csv; runs with accounts or
 * payments also keep their report files (GOLDEN_REPORT_FILES).
 */
export const GOLDEN_EVENTS_MAX_BYTES = 4 * 1024 * 1024;
/** For runs above GOLDEN_EVENTS_MAX_BYTES: the first SAMPLE_HEAD_LINES lines and every SAMPLE_EVERY-th, each as `<line number>\t<line>`. */
export const EVENTS_SAMPLE_FILE = 'events.sample.ndjson';
const SAMPLE_HEAD_LINES = 1000;
const SAMPLE_EVERY = 10_000;
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
  /** Above this many bytes --update keeps a sample of events.ndjson, not the file (default GOLDEN_EVENTS_MAX_BYTES). */
  eventsMaxBytes?: number;
  /** Where the rerun's scratch directory goes (the caller removes it if interrupted); default the system's temp dir. */
  workRoot?: string;
}

export async function verifyGolden(scenario: Scenario, goldenDir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  // Checked before the run: a mistyped --golden is bad input, not "different".
  if (!opts.update) {
    if (!existsSync(goldenDir)) throw new UserError(`${goldenDir}: golden directory not found (create it with --update)`);
    if (!statSync(goldenDir).isDirectory()) throw new UserError(`${goldenDir}: not a directory`);
  }
  const work = mkdtempSync(join(opts.workRoot ?? tmpdir(), 'exsim-verify-'));
  try {
    const outDir = join(work, 'out');
    // The audit log is a view of the same events; goldens pin the events themselves.
    const { update: _u, eventsMaxBytes: _m, workRoot: _w, ...runOpts } = opts;
    const { summary } = await runScenario({ ...runOpts, scenario, outDir, audit: false });
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
      if (f === 'events.ndjson' && !existsSync(golden) && existsSync(join(goldenDir, 'summary.json'))) {
        // A large run: its sampled lines first (the hash in summary.json pins the rest).
        const sample = join(goldenDir, EVENTS_SAMPLE_FILE);
        if (existsSync(sample)) diff = compareSample(sample, join(outDir, f));
        if (diff) break;
        continue;
      }
      diff = compareFiles(golden, join(outDir, f), f);
      if (diff) break;
    }
    const changes: string[] = [];
    // A large run's golden from before samples were kept gets one on --update even when identical.
    const maxBytes = opts.eventsMaxBytes ?? GOLDEN_EVENTS_MAX_BYTES;
    const sampleMissing = !existsSync(join(goldenDir, 'events.ndjson')) && !existsSync(join(goldenDir, EVENTS_SAMPLE_FILE)) && statSync(join(outDir, 'events.ndjson')).size > maxBytes;
    if (opts.update && (diff || sampleMissing)) {
      mkdirSync(goldenDir, { recursive: true });
      for (const f of files) {
        const src = join(outDir, f);
        const dst = join(goldenDir, f);
        if (f === 'events.ndjson' && statSync(src).size > maxBytes) {
          if (existsSync(dst)) rmSync(dst);
          const sampleDst = join(goldenDir, EVENTS_SAMPLE_FILE);
          const before = existsSync(sampleDst) ? readFileSync(sampleDst, 'utf8') : null;
          const after = sampleOf(readFileSync(src));
          if (before !== after) {
            writeFileSync(sampleDst, after);
            changes.push(describeChange(EVENTS_SAMPLE_FILE, before, after));
          }
          changes.push(`${f}: not kept whole (${statSync(src).size} bytes > ${maxBytes}); summary.json's eventsSha256 pins it, ${EVENTS_SAMPLE_FILE} shows where it changed`);
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

/** Sampled lines of an events file, as EVENTS_SAMPLE_FILE holds them. */
export function sampleOf(events: Buffer): string {
  const out: string[] = [];
  let line = 0;
  for (let start = 0; start < events.length; ) {
    let end = events.indexOf(0x0a, start);
    if (end < 0) end = events.length;
    line++;
    if (line <= SAMPLE_HEAD_LINES || line % SAMPLE_EVERY === 0) out.push(`${line}\t${events.toString('utf8', start, end)}`);
    start = end + 1;
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/**
 * The first sampled line that differs, reported as a line of events.ndjson. Between two
 * samples the first real difference may lie anywhere after the previous one: said in the result.
 */
function compareSample(samplePath: string, actualPath: string): GoldenDiff | null {
  const want = readFileSync(samplePath, 'utf8');
  const got = sampleOf(readFileSync(actualPath));
  if (want === got) return null;
  const wl = want.split('\n');
  const gl = got.split('\n');
  let prev = 0;
  for (let i = 0; i < Math.max(wl.length, gl.length); i++) {
    if (wl[i] === gl[i]) {
      prev = Number((wl[i] ?? '').split('\t')[0]) || prev;
      continue;
    }
    const pick = (l: string | undefined): [number, string | null] => {
      if (l === undefined || l === '') return [0, null];
      const tab = l.indexOf('\t');
      return [Number(l.slice(0, tab)), l.slice(tab + 1)];
    };
    const [wn, wText] = pick(wl[i]);
    const [gn, gText] = pick(gl[i]);
    const line = wn || gn;
    const where = line > SAMPLE_HEAD_LINES ? ` (sampled golden: the first difference is after line ${prev} and at or before this one)` : '';
    return { file: `events.ndjson${where}`, line, expected: wText, actual: gText };
  }
  return { file: 'events.ndjson (sampled)', line: prev, expected: '(bytes differ)', actual: '(bytes differ)' };
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
