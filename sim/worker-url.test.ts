import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { workerScript } from './worker-url.js';

describe('workerScript', () => {
  it('compiled JS: the .js sibling, no flags', () => {
    const w = workerScript('file:///app/dist/sim/feeds/worker-feed.js', 'feed-worker');
    expect(w.url.href).toBe('file:///app/dist/sim/feeds/feed-worker.js');
    expect(w.execArgv).toEqual([]);
  });

  it('TypeScript sources: a module that registers tsx, then loads the .ts sibling', async () => {
    const w = workerScript(import.meta.url, 'ring');
    expect(w.url.protocol).toBe('data:');
    expect(decodeURIComponent(w.url.href)).toContain(new URL('./ring.ts', import.meta.url).href);
    // It really loads TypeScript in a worker: ring.ts has no side effects, so the worker exits 0.
    const worker = new Worker(w.url, { execArgv: w.execArgv });
    const code = await new Promise<number>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
    expect(code).toBe(0);
  });

  it('a .ts worker that throws while loading reports it as the error event', async () => {
    const w = workerScript(import.meta.url, 'no-such-file');
    const worker = new Worker(w.url, { execArgv: w.execArgv });
    await expect(new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    })).rejects.toThrow(/no-such-file/);
  });
});
