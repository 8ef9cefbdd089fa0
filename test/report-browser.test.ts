import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';
import { CHROMIUM_PATH, checkReportInBrowser } from './report-check.js';

/**
 * report.html in a real browser: Debian's chromium driven by playwright-core
 * (a devDependency). Skipped, saying why, where either is missing.
 */
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let chromium: Parameters<typeof checkReportInBrowser>[0] | null = null;
let missing = '';
try {
  chromium = ((await import('playwright-core')) as unknown as { chromium: Parameters<typeof checkReportInBrowser>[0] }).chromium;
} catch {
  missing = 'playwright-core is not installed (npm i -D playwright-core)';
}
if (!missing && !existsSync(CHROMIUM_PATH)) missing = `${CHROMIUM_PATH} is missing (apt-get install -y chromium)`;
if (missing) console.warn(`report-browser.test.ts skipped: ${missing}`);

describe.skipIf(missing !== '')('report.html in headless chromium', () => {
  it('renders offline with data in every chart and no console errors', async () => {
    const sc = loadScenario(join(root, 'scenarios', 'market-maker.json'));
    const out = join(work, 'mm');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    const r = await checkReportInBrowser(chromium!, join(out, 'report.html'));
    expect(r.title).toBe('market-maker backtest report');
    expect(r.consoleErrors).toEqual([]);
    expect(r.networkRequests).toEqual([]);
    expect(r.strategies).toBe(1);
    expect(r.charts.map((c) => c.id)).toEqual(['equity', 'inventory', 'price-ACME', 'spread-ACME', 'depth-ACME']);
    for (const c of r.charts) {
      expect(c.paths, c.id).toBeGreaterThan(0);
      // A line needs at least two points; every chart of a 10-minute day at 1 s samples has hundreds.
      expect(c.points, c.id).toBeGreaterThan(100);
    }
    expect(r.charts.find((c) => c.id === 'price-ACME')!.markers).toBeGreaterThan(10);
    expect(r.metricRows).toBeGreaterThan(20);
  });
});
