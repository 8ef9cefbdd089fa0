import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Readers of a run's output files for tests: a CSV as rows keyed by header, events.ndjson as objects. */
export type Row = Record<string, string>;

export function csv(file: string): Row[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => {
    const v = l.split(',');
    return Object.fromEntries(cols.map((c, k) => [c, v[k] ?? '']));
  });
}

export function events(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
