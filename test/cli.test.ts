import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

/** The CLI as a user meets it: the compiled dist/ (npm test builds it first). */
const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/exsim.js');
const work = mkdtempSync(join(tmpdir(), 'exsim-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function exsim(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let badFiles = 0;
function scenarioWith(mutate: (s: Record<string, any>) => void, name = `bad-${++badFiles}.json`): string {
  const s = JSON.parse(readFileSync(join(root, 'scenarios/stops.json'), 'utf8'));
  mutate(s);
  const p = join(work, name);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

describe.skipIf(!existsSync(bin))('exsim CLI', () => {
  it('runs a scenario and writes the run directory', () => {
    const r = exsim('run', join(root, 'scenarios/stops.json'), '--out', 'o1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('stops');
    for (const f of ['events.ndjson', 'summary.json', 'audit.sqlite', 'scenario.json']) expect(existsSync(join(work, 'o1', f))).toBe(true);
    const summary = JSON.parse(readFileSync(join(work, 'o1/summary.json'), 'utf8'));
    expect(summary.eventsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('bad input: exit 2, the file and JSON path named, no stack trace, no output left', () => {
    const cases: [string, RegExp][] = [
      [scenarioWith((s) => (s.instruments[0].tickSize = 0.01)), /instruments\[0\]\.tickSize: expected a decimal string/],
      [scenarioWith((s) => (s.actions[0].size = '-3')), /actions\[0\]\.size/],
      [scenarioWith((s) => (s.actions[0].size = '2.5')), /actions\[0\]\.size/],
      [scenarioWith((s) => (s.actions[0].price = '100.105')), /actions\[0\]\.price/],
      [scenarioWith((s) => (s.actions[0].instrument = 'NOPE')), /actions\[0\]\.instrument/],
      [scenarioWith((s) => (s.actions[0].account = 'nobody')), /actions\[0\]\.account/],
      [scenarioWith((s) => (s.extra = 1)), /extra/],
      [join(work, 'missing.json'), /missing\.json/],
    ];
    for (const [file, msg] of cases) {
      const r = exsim('run', file, '--out', 'never');
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).toContain(file.split('/').pop()!);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(existsSync(join(work, 'never'))).toBe(false);
    }
    const bad = join(work, 'broken.json');
    writeFileSync(bad, '{\n  "name": "x",\n  oops\n}');
    const r = exsim('run', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json:3:\d+: invalid JSON/);
  });

  it('a bad --out: exit 2, one line naming the path, no stack trace', () => {
    const file = join(work, 'plain-file');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'sub')]) {
      const r = exsim('run', join(root, 'scenarios/stops.json'), '--out', out);
      expect(r.code, r.err).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(out);
      expect(r.err).toContain('is not a directory');
      expect(r.out).toBe('');
    }
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run removes the partial directory and exits %i', async (sig, code) => {
    const out = join(work, `killed-${sig}`);
    const child = spawn(process.execPath, [bin, 'run', join(root, 'scenarios/synthetic-1m.json'), '--out', out, '--no-audit'], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const partial = `${out}.partial-${child.pid}`;
    const events = join(partial, '.events.ndjson.partial');
    // Signal only once the run has written events, so the cleanup really has something to remove.
    const t0 = Date.now();
    while (!(existsSync(events) && statSync(events).size > 0)) {
      expect(Date.now() - t0, 'the run never started writing').toBeLessThan(20_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill(sig);
    expect(await exited, err).toBe(code);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.startsWith(`killed-${sig}`))).toEqual([]);
    expect(err).toContain(`interrupted (${sig})`);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('SIGINT during verify removes its scratch run (exit 130)', async () => {
    const tmp = join(work, 'verify-tmp');
    mkdirSync(tmp);
    const child = spawn(process.execPath, [bin, 'verify', join(root, 'scenarios/synthetic-1m.json'), '--golden', join(root, 'fixtures/golden/synthetic-1m')], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Signal once the rerun has written events somewhere under the private temp dir.
    const sizeUnder = (d: string): number =>
      readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizeUnder(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
    const t0 = Date.now();
    while (sizeUnder(tmp) === 0) {
      expect(Date.now() - t0, 'the rerun never started writing').toBeLessThan(20_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    expect(await exited, err).toBe(130);
    expect(readdirSync(tmp)).toEqual([]);
    expect(err).toContain('interrupted (SIGINT)');
  });

  it('--record-lobster on a scenario whose instruments are all replayed says so (exit 2, before the run)', () => {
    const r = exsim('run', join(root, 'scenarios/replay-aapl.json'), '--out', 'rec-aapl', '--record-lobster');
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('--record-lobster: every instrument of replay-aapl (AAPL) is replayed from recorded data');
    expect(existsSync(join(work, 'rec-aapl'))).toBe(false);
  });

  it('usage errors exit 2; help exits 0 and documents the options', () => {
    expect(exsim('run').code).toBe(2);
    expect(exsim('run', join(root, 'scenarios/stops.json'), '--feed-thread', 'sideways').code).toBe(2);
    expect(exsim('run', join(root, 'scenarios/stops.json'), '--seed', '-1').code).toBe(2);
    const h = exsim('run', '--help');
    expect(h.code).toBe(0);
    for (const o of ['--out', '--seed', '--feed-thread', '--no-audit', '--check-invariants', 'book.json', 'worker|inline|auto']) expect(h.out).toContain(o);
    for (const cmd of ['verify', 'audit', 'lobster']) expect(exsim('--help').out).toContain(cmd);
  });

  it('sweep: runs the grid, writes sweep.csv and prints the best runs; bad arguments exit 2 before any run', () => {
    const mm = join(root, 'scenarios/market-maker.json');
    const r = exsim('sweep', mm, '--param', 'spreadTicks=1,2', '--seeds', '1..2', '--workers', '2', '--metric', 'pnl', '--top', '3', '--out', 'sw');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('4/4 runs');
    expect(r.out).toMatch(/^4 runs -> sw\/sweep\.csv\nbest 3 by pnl:\n/);
    const csv = readFileSync(join(work, 'sw/sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]).toMatch(/^run,seed,spreadTicks,pnl,/);
    // The printed table: its rows ranked by pnl, best first.
    const pnls = [...r.out.matchAll(/│\s*\d\s*│\s*\d\s*│\s*\d\s*│\s*(-?[\d.]+)\s*│/g)].map((m) => Number(m[1]));
    expect(pnls).toHaveLength(3);
    expect([...pnls].sort((a, b) => b - a)).toEqual(pnls);
    const bad: [string[], RegExp][] = [
      [['--metric', 'happiness'], /^error: --metric: "happiness" is not a column of sweep\.csv; expected one of .*"markout60s"/],
      [['--param', 'sprdTicks=1,2'], /^error: --param sprdTicks: no strategy in \S+ has a param "sprdTicks"/],
      [['--param', 'spreadTicks=1', '--param', 'spreadTicks=2'], /is already swept by --param spreadTicks/],
      [['--param', 'spreadTicks=1,1'], /the value 1 is given twice/],
      [['--seeds', '3..1'], /^error: --seeds: expected a range/],
      [['--workers', '0'], /^error: --workers: expected a whole number from 1/],
      [['--top', '0'], /^error: --top: expected at least 1, got 0/],
    ];
    for (const [args, msg] of bad) {
      const b = exsim('sweep', mm, ...args, '--out', 'sw-never');
      expect(b.code, args.join(' ')).toBe(2);
      expect(b.err).toMatch(msg);
      expect(b.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(existsSync(join(work, 'sw-never'))).toBe(false);
    }
    const h = exsim('sweep', '--help');
    expect(h.out).toContain("(default: the scenario's seed)");
    expect(h.out).not.toContain('(default: "")');
  });

  it('an async strategy handler: exit 2, one line, no stack, no output', () => {
    const dir = join(work, 'async-strategy');
    cpSync(join(root, 'test/fixtures-strategies/async.ts'), join(dir, 'async.ts'), { recursive: true });
    const s = JSON.parse(readFileSync(join(root, 'scenarios/market-maker.json'), 'utf8'));
    s.strategies = [{ name: 'as', module: './async.ts', account: s.strategies[0].account, params: { mode: 'throw' } }];
    writeFileSync(join(dir, 'sc.json'), JSON.stringify(s));
    const r = exsim('run', join(dir, 'sc.json'), '--out', 'async-never');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: strategy "as" \(\.\/async\.ts\) failed in onQuote at virtual time \d\d:\d\d:\d\d\.\d{9}: handlers must be synchronous: onQuote returned a promise[^\n]*\n$/);
    expect(existsSync(join(work, 'async-never'))).toBe(false);
  });

  it('verify: 0 when identical, 1 with the first differing line, --update rewrites', () => {
    const golden = join(work, 'golden-stops');
    cpSync(join(root, 'fixtures/golden/stops'), golden, { recursive: true });
    expect(exsim('verify', join(root, 'scenarios/stops.json'), '--golden', golden).code).toBe(0);
    const p = join(golden, 'events.ndjson');
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[33] = lines[33]!.replace('"size":"10"', '"size":"11"');
    writeFileSync(p, lines.join('\n'));
    const r = exsim('verify', join(root, 'scenarios/stops.json'), '--golden', golden);
    expect(r.code).toBe(1);
    expect(r.out).toContain('events.ndjson line 34');
    expect(r.out).toContain('"size":"11"');
    expect(r.out).toContain('"size":"10"');
    const u = exsim('verify', join(root, 'scenarios/stops.json'), '--golden', golden, '--update');
    expect(u.code).toBe(0);
    expect(u.out).toContain('first change at line 34');
    expect(exsim('verify', join(root, 'scenarios/stops.json'), '--golden', golden).code).toBe(0);
  });

  it('verify pins the report files of runs with accounts or payments (positions.json, pnl.json, recon files)', () => {
    const golden = join(work, 'golden-recon');
    cpSync(join(root, 'fixtures/golden/payments-recon'), golden, { recursive: true });
    const sc = join(root, 'scenarios/payments-recon.json');
    expect(exsim('verify', sc, '--golden', golden).code).toBe(0);
    const p = join(golden, 'recon-classes.csv');
    writeFileSync(p, readFileSync(p, 'utf8').replace('amount-mismatch,1,1,0.10', 'amount-mismatch,1,1,0.11'));
    const r = exsim('verify', sc, '--golden', golden);
    expect(r.code).toBe(1);
    expect(r.out).toContain('recon-classes.csv line 5');
    // A golden without a report file the run writes is a difference too.
    expect(exsim('verify', sc, '--golden', golden, '--update').code).toBe(0);
    rmSync(join(golden, 'recon.json'));
    expect(exsim('verify', sc, '--golden', golden).out).toContain('recon.json');
    expect(exsim('verify', sc, '--golden', golden).code).toBe(1);
  });

  it('verify: a changed scenario reports the first differing event, not the summary hash line', () => {
    // The golden is untouched; the scenario changes, so events AND summary.json differ.
    const changed = scenarioWith((s) => {
      const a = s.actions.find((x: { price?: string }) => x.price === '100.20');
      a.price = '100.25';
    }, 'stops-changed.json');
    const r = exsim('verify', changed, '--golden', join(root, 'fixtures/golden/stops'));
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('events.ndjson line 7');
    expect(r.out).not.toContain('summary.json');
    expect(r.out).toMatch(/expected: \{"seq":7,.*"type":"accepted".*"price":"100\.20"/);
    expect(r.out).toMatch(/actual: +\{"seq":7,.*"type":"accepted".*"price":"100\.25"/);
  });

  it('verify: a missing golden directory is bad input (exit 2), named', () => {
    const r = exsim('verify', join(root, 'scenarios/stops.json'), '--golden', join(work, 'no-such-golden'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('no-such-golden: golden directory not found');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('audit verify: 0 on an intact log, 1 and the first bad row when tampered; query filters', () => {
    expect(exsim('run', join(root, 'scenarios/stops.json'), '--out', 'o2').code).toBe(0);
    const db = join(work, 'o2/audit.sqlite');
    expect(exsim('audit', 'verify', db).code).toBe(0);
    const q = exsim('audit', 'query', db, '--type', 'trade', '--json');
    expect(q.code).toBe(0);
    expect(q.out.trim().split('\n')).toHaveLength(6);
    const d = new Database(db);
    // An edit of the same length, straight in the block's lines: only the chain can tell.
    const lines = d.prepare('SELECT lines FROM blocks WHERE first_seq <= 34 AND last_seq >= 34').pluck().get() as Buffer;
    const at = lines.indexOf('"size":"10"', lines.indexOf('{"seq":34,'));
    expect(at).toBeGreaterThan(lines.indexOf('{"seq":34,'));
    expect(at).toBeLessThan(lines.indexOf('\n', lines.indexOf('{"seq":34,')));
    lines.write('"size":"99"', at);
    d.prepare('UPDATE blocks SET lines = ? WHERE first_seq <= 34 AND last_seq >= 34').run(lines);
    d.close();
    const v = exsim('audit', 'verify', db);
    expect(v.code).toBe(1);
    expect(v.out).toContain('seq 34');
    // Not an audit log at all is bad input (2), not tampering (1); so is a type name the log does not know.
    writeFileSync(join(work, 'not-audit.sqlite'), 'hello\n');
    const na = exsim('audit', 'verify', join(work, 'not-audit.sqlite'));
    expect(na.code).toBe(2);
    expect(na.err).toMatch(/not-audit\.sqlite: not an exsim audit log/);
    const bogus = exsim('audit', 'query', db, '--type', 'bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/no event type "bogus"; types: .*trade/);
  });
});
