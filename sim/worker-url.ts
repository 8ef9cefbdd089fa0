import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Where a worker's script is, for both ways the code runs: compiled JS under
 * dist/ (the `.js` sibling, no flags) and TypeScript sources under vitest or
 * tsx (the `.ts` sibling, which needs tsx's loader inside the worker).
 *
 * Why not `execArgv: ['--import', 'tsx']`: on Node 20 a worker's `--import`
 * runs, but the loader hooks it registers do not apply to the worker's own
 * entry module ("Unknown file extension .ts"). Registering tsx from inside the
 * worker does work, so for `.ts` the URL is a tiny `data:` module that calls
 * tsx's register() and then imports the real script. workerData, transfer
 * lists, 'error' and 'exit' events behave as with a direct file worker, and
 * errors thrown while loading the script still surface as the 'error' event.
 */
export function workerScript(metaUrl: string, baseName: string): { url: URL; execArgv: string[] } {
  const isTs = /\.[cm]?ts$/.test(new URL(metaUrl).pathname);
  if (!isTs) return { url: new URL(`./${baseName}.js`, metaUrl), execArgv: [] };
  const target = new URL(`./${baseName}.ts`, metaUrl).href;
  const tsxApi = tsxEsmApiUrl(metaUrl);
  const boot = `const api = await import(${JSON.stringify(tsxApi)});\napi.register();\nawait import(${JSON.stringify(target)});\n`;
  return { url: new URL(`data:text/javascript,${encodeURIComponent(boot)}`), execArgv: [] };
}

/** tsx's ESM API module as a file URL (a data: module cannot resolve bare specifiers). */
export function tsxEsmApiUrl(metaUrl: string): string {
  const req = createRequire(metaUrl);
  // The package's "require" condition gives the .cjs build; the ESM build sits beside it.
  const cjs = req.resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(mjs).href;
}
