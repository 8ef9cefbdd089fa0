import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { UserError } from './errors.js';
import { runScenario } from './run.js';
import { parseScenario } from './scenario.js';
import { applySweepParams, type SweepWorkerReply, type SweepWorkerRequest } from './sweep.js';

/**
 * One sweep worker: takes jobs one at a time, runs each as a complete backtest
 * (feed and writers inline: the parallelism is across runs), returns its
 * metrics, and discards the run's files.
 */
const port = parentPort!;
port.on('message', (m: SweepWorkerRequest) => {
  void (async () => {
    const work = mkdtempSync(join(m.workRoot ?? tmpdir(), 'exsim-sweep-'));
    try {
      const raw = applySweepParams(JSON.parse(readFileSync(m.scenarioFile, 'utf8')), m.job, m.scenarioFile);
      const sc = parseScenario(JSON.stringify(raw), m.scenarioFile, { seed: m.job.seed });
      const r = await runScenario({ scenario: sc, outDir: join(work, 'run'), feedThread: 'inline', outputThread: 'inline', audit: false });
      const metrics = (r.summary.extra?.['strategies'] ?? {}) as Record<string, Record<string, string>>;
      port.postMessage({ run: m.job.run, metrics } satisfies SweepWorkerReply);
    } catch (e) {
      port.postMessage({ run: m.job.run, error: (e as Error)?.message ?? String(e), userError: e instanceof UserError } satisfies SweepWorkerReply);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  })();
});
