import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The issue-3 floors run on ../shared/data, which CI clones beside this repo. Elsewhere those
 * tests skip, and say so where it is read: the suite's title carries the reason, so vitest's
 * output and the summary reporter's skipped list show it (a console.warn scrolled away).
 */
const root = join(import.meta.dirname, '..');

export function sharedData(sub: string): { dir: string; have: boolean; title: (name: string) => string } {
  const dir = join(root, '..', 'shared', 'data', sub);
  const have = existsSync(dir);
  return { dir, have, title: (name) => (have ? name : `${name} [SKIPPED: ${relative(root, dir)} not found; clone shared/ beside this repo to run it]`) };
}
