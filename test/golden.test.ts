import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/scenario.js';
import { verifyGolden } from '../sim/verify.js';

/**
 * Every scenario in scenarios/ has a golden in fixtures/golden/<name>/ and must
 * reproduce it byte for byte. A golden changes only in a commit that says why.
 */
const root = join(import.meta.dirname, '..');
const files = readdirSync(join(root, 'scenarios'))
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('golden scenarios', () => {
  it('there are scenarios to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });
  for (const f of files) {
    it(`${f} reproduces its golden`, async () => {
      const sc = loadScenario(join(root, 'scenarios', f));
      const r = await verifyGolden(sc, join(root, 'fixtures', 'golden', sc.name), { feedThread: 'inline', outputThread: 'inline' });
      expect(r.diff, r.diff ? `${r.diff.file}:${r.diff.line}\nexpected ${r.diff.expected}\nactual   ${r.diff.actual}` : '').toBeNull();
      expect(r.identical).toBe(true);
    });
  }
});
