import type { Reporter } from 'vitest/reporters';

/**
 * Ends `npm test` with one plain line, `tests: N passed, N failed, N skipped`, that
 * CI reads to count the tests (vitest's own summary is not a format it knows).
 */
type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

export default class SummaryReporter implements Reporter {
  onFinished(files: readonly Task[] = [], errors: readonly unknown[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: Task): void => {
      if (t.type === 'test') {
        const state = t.result?.state;
        if (state === 'pass') passed++;
        else if (state === 'fail') failed++;
        else skipped++;
      }
      for (const c of t.tasks ?? []) walk(c);
    };
    for (const f of files) {
      // A file that failed to load has no tests but did fail.
      if (f.result?.state === 'fail' && (f.tasks ?? []).length === 0) failed++;
      walk(f);
    }
    failed += errors.length;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
