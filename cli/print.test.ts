import { describe, expect, it } from 'vitest';
import { progressPrinter } from './print.js';

describe('progressPrinter', () => {
  it('on a terminal, rewrites one line with \\r and ends it with a newline before the summary', () => {
    let t = 0;
    const out: string[] = [];
    const p = progressPrinter(() => t, true, (s) => out.push(s));
    t = 2500;
    p(1_000_000_000, 10);
    t = 2800;
    p(2_000_000_000, 20);
    expect(out).toHaveLength(2);
    expect(out.every((s) => s.startsWith('\r') && !s.endsWith('\n'))).toBe(true);
    p.end();
    expect(out.at(-1)).toBe('\n');
    p.end();
    expect(out).toHaveLength(3);
  });

  it('prints nothing at the end of a short run, and whole lines when not a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const short = progressPrinter(() => t, true, (s) => out.push(s));
    t = 500;
    short(1, 1);
    short.end();
    expect(out).toEqual([]);
    const pipe = progressPrinter(() => t, false, (s) => out.push(s));
    t = 8000;
    pipe(1, 1);
    pipe.end();
    expect(out).toHaveLength(1);
    expect(out[0]!.endsWith('\n')).toBe(true);
  });
});
