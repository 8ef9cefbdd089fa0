import type { Reporter } from 'vitest/reporters';

/**
 * Ends `npm test` with one plain line, `tests: N passed, N failed, N skipped`, that
 * CI reads to count the tests (vitest's own summary is not a format it knows).
 */
type Task = { type: string; name?: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

export default class SummaryReporter implements Reporter {
  onFinished(files: readonly Task[] = [], errors: readonly unknown[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    // Skipped suites are named (their titles say why, e.g. test data not found) so a
    // skip is never silent.
    const skippedSuites = new Map<string, number>();
    const walk = (t: Task, path: string): void => {
      const here = t.type === 'suite' && t.name ? (path ? `${path} > ${t.name}` : t.name) : path;
      if (t.type === 'test') {
        const state = t.result?.state;
        if (state === 'pass') passed++;
        else if (state === 'fail') failed++;
        else {
          skipped++;
          skippedSuites.set(here, (skippedSuites.get(here) ?? 0) + 1);
        }
      }
      for (const c of t.tasks ?? []) walk(c, here);
    };
    for (const f of files) {
      // A file that failed to load has no tests but did fail.
      if (f.result?.state === 'fail' && (f.tasks ?? []).length === 0) failed++;
      walk(f, '');
    }
    failed += errors.length;
    for (const [suite, n] of skippedSuites) process.stdout.write(`\nskipped ${n}: ${suite || '(top level)'}`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
