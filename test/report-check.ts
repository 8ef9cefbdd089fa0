import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Opens a report.html in a real headless Chromium (driven by playwright-core)
 * and says what a reader would notice: errors in the console, requests that
 * would need the network, charts without data. The browser type is passed in
 * so the check does not depend on how playwright-core was found.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChartInfo {
  id: string;
  paths: number;
  /** Points drawn (M/L commands) over all the chart's series. */
  points: number;
  markers: number;
}

export interface ReportCheck {
  title: string;
  consoleErrors: string[];
  networkRequests: string[];
  charts: ChartInfo[];
  metricRows: number;
  strategies: number;
}

interface BrowserTypeLike {
  launchPersistentContext(
    dir: string,
    o: { executablePath: string; headless: boolean; args: string[] },
  ): Promise<{
    newPage(): Promise<PageLike>;
    close(): Promise<void>;
  }>;
}
interface PageLike {
  on(ev: 'console', f: (m: { type(): string; text(): string }) => void): void;
  on(ev: 'pageerror', f: (e: Error) => void): void;
  route(url: string, f: (r: { request(): { url(): string }; abort(): Promise<void>; continue(): Promise<void> }) => Promise<void>): Promise<void>;
  goto(url: string, o?: { waitUntil?: 'load' }): Promise<unknown>;
  title(): Promise<string>;
  evaluate<T>(f: () => T): Promise<T>;
}

export async function checkReportInBrowser(chromium: BrowserTypeLike, reportPath: string): Promise<ReportCheck> {
  const profile = mkdtempSync(join(tmpdir(), 'exsim-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await ctx.newPage();
    const consoleErrors: string[] = [];
    const networkRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.route('**/*', async (r) => {
      const url = r.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return r.continue();
      networkRequests.push(url);
      return r.abort();
    });
    await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
    const title = await page.title();
    const info = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
        const paths = [...svg.querySelectorAll('path.series')];
        let points = 0;
        for (const p of paths) points += ((p.getAttribute('d') ?? '').match(/[ML]/g) ?? []).length;
        // Rendered, not only present: the browser laid the chart out with a size.
        const box = svg.getBoundingClientRect();
        return { id: svg.getAttribute('data-chart') ?? '', paths: paths.length, points: box.width > 0 && box.height > 0 ? points : 0, markers: svg.querySelectorAll('circle.fill-marker').length };
      });
      return { charts, metricRows: document.querySelectorAll('table.metrics tbody tr').length, strategies: document.querySelectorAll('section.strategy').length };
    });
    return { title, consoleErrors, networkRequests, ...info };
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
