import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadLetters } from './dead-letter.js';

describe('DeadLetters', () => {
  it('writes CSV (quoting what needs it) or NDJSON by extension', () => {
    const dl = new DeadLetters();
    dl.add('m.csv', 7, 'size is negative', '1,1,1,-5,100,1');
    dl.add('m.csv', 9, 'type is not one of 1..7', 'a"b');
    const dir = mkdtempSync(join(tmpdir(), 'dl-'));
    dl.write(join(dir, 'dead-letter.csv'));
    dl.write(join(dir, 'dead-letter.ndjson'));
    expect(readFileSync(join(dir, 'dead-letter.csv'), 'utf8')).toBe(
      'file,line,reason,raw\nm.csv,7,size is negative,"1,1,1,-5,100,1"\nm.csv,9,type is not one of 1..7,"a""b"\n',
    );
    const lines = readFileSync(join(dir, 'dead-letter.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { file: 'm.csv', line: 7, reason: 'size is negative', raw: '1,1,1,-5,100,1' },
      { file: 'm.csv', line: 9, reason: 'type is not one of 1..7', raw: 'a"b' },
    ]);
  });

  it('keeps counting past the rows it keeps', () => {
    const dl = new DeadLetters(2);
    for (let i = 1; i <= 5; i++) dl.add('f', i, 'r', '');
    expect(dl.count).toBe(5);
    expect(dl.entries.length).toBe(2);
  });

  it('an unwritable path is a UserError', () => {
    expect(() => new DeadLetters().write('/nonexistent-dir/dl.csv')).toThrow(/\/nonexistent-dir\/dl\.csv: cannot write/);
  });
});
