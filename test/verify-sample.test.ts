import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/scenario.js';
import { EVENTS_SAMPLE_FILE, verifyGolden } from '../sim/verify.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-verify-sample-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('goldens of large runs', () => {
  it('keep a sample of events.ndjson, and a change shows as a sampled event, not only as the summary hash', async () => {
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    const golden = join(work, 'golden');
    // quickstart as a "large" run: anything above 1,000 bytes keeps the sample only.
    const opts = { feedThread: 'inline', outputThread: 'inline', eventsMaxBytes: 1000 } as const;
    const u = await verifyGolden(sc, golden, { ...opts, update: true });
    expect(existsSync(join(golden, 'events.ndjson'))).toBe(false);
    const sample = readFileSync(join(golden, EVENTS_SAMPLE_FILE), 'utf8').split('\n').filter((l) => l !== '');
    expect(sample.length).toBe(1000 + Math.floor((u.summary.events - 1000) / 10_000));
    expect(sample[0]).toMatch(/^1\t\{"seq":1,/);
    const lastSampled = Math.floor(u.summary.events / 10_000) * 10_000;
    expect(sample[sample.length - 1]!.startsWith(`${lastSampled}\t{"seq":${lastSampled},`)).toBe(true);
    expect((await verifyGolden(sc, golden, opts)).identical).toBe(true);

    // A change after the head: the first differing sampled line, expected and actual, and where the real one may be.
    const other = await verifyGolden({ ...sc, seed: 43 }, golden, opts);
    expect(other.identical).toBe(false);
    expect(other.diff!.file).toBe('events.ndjson');
    expect(other.diff!.line).toBeLessThanOrEqual(1000);
    expect(other.diff!.expected).toMatch(/^\{"seq":\d+,/);
    expect(other.diff!.actual).toMatch(/^\{"seq":\d+,/);
    expect(other.diff!.actual).not.toBe(other.diff!.expected);
    // The same check past the head: drop the head from the golden sample and compare again.
    writeFileSync(join(golden, EVENTS_SAMPLE_FILE), sample.filter((l) => Number(l.split('\t')[0]) > 1000).join('\n') + '\n');
    const far = await verifyGolden({ ...sc, seed: 43 }, golden, opts);
    expect(far.diff!.file).toContain('events.ndjson (sampled golden: the first difference is after line');
    expect(far.diff!.line).toBe(10000);
  });
});
