import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/shared-data.js';
import { UserError } from '../errors.js';
import { DeadLetters } from './dead-letter.js';
import { LobsterType, parseLobsterMessages, parseLobsterOrderbook, readInput } from './lobster.js';

const SHARED = sharedData('lobster');
const DATA = SHARED.dir + '/';
const HAVE_DATA = SHARED.have;

const buf = (s: string) => Buffer.from(s, 'latin1');

describe('parseLobsterMessages', () => {
  it('decodes every column, time to exact nanoseconds', () => {
    const m = parseLobsterMessages(buf('34200.004241176,1,16113575,18,5853300,1\r\n34200.5,4,-1,7,5853200,-1\n\n36023,7,0,0,-1,-1\n'));
    expect(m.count).toBe(3);
    expect(Array.from(m.timeNs)).toEqual([34_200_004_241_176, 34_200_500_000_000, 36_023_000_000_000]);
    expect(Array.from(m.type)).toEqual([1, 4, 7]);
    expect(Array.from(m.orderId)).toEqual([16113575, -1, 0]);
    expect(Array.from(m.size)).toEqual([18, 7, 0]);
    expect(Array.from(m.price)).toEqual([5853300, 5853200, -1]);
    expect(Array.from(m.direction)).toEqual([1, -1, -1]);
    expect(Array.from(m.line)).toEqual([1, 2, 4]);
  });

  it('drops float noise beyond nine decimals, rounding on the tenth', () => {
    const m = parseLobsterMessages(buf('35821.088778456004,3,1,100,5851500,1\n35821.0887784559999,3,1,100,5851500,1\n'));
    expect(m.timeNs[0]).toBe(35_821_088_778_456);
    expect(m.timeNs[1]).toBe(35_821_088_778_456);
  });

  it('records malformed rows with line, reason and text, keeps their place, and goes on', () => {
    const dl = new DeadLetters();
    const text = [
      '34200.1,1,1,10,100,1',
      '34200.2,1,2,10,100', // 5 columns
      '34200.3,9,3,10,100,1', // unknown type
      '34200.4,1,4,-5,100,1', // negative size
      '34200.x,1,5,10,100,1', // non-numeric time
      '34200.6,1,6,10,1e2,1', // non-numeric price
      '34200.7,1,7,10,100,1,0', // 7 columns
      '34200.8,1,8,10,100,1',
    ].join('\n');
    const m = parseLobsterMessages(buf(text), { file: 'm.csv', deadLetters: dl });
    expect(m.count).toBe(8);
    expect(Array.from(m.type)).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    expect(m.orderId[7]).toBe(8);
    expect(dl.count).toBe(6);
    expect(dl.entries.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(dl.entries.map((e) => e.reason)).toEqual([
      'expected 6 columns: time,type,order_id,size,price,direction',
      'type is not one of 1..7',
      'size is negative',
      'time is not a decimal number of seconds',
      'price is not an integer',
      'expected 6 columns: time,type,order_id,size,price,direction',
    ]);
    expect(dl.entries[1]!.raw).toBe('34200.3,9,3,10,100,1');
    expect(dl.entries[0]!.file).toBe('m.csv');
    expect(m.type[1]).toBe(LobsterType.Invalid);
  });

  it('strict mode stops at the first bad row with file and line', () => {
    const text = '34200.1,1,1,10,100,1\n34200.2,1,2,10,100,0\n';
    expect(() => parseLobsterMessages(buf(text), { file: 'm.csv', strict: true })).toThrow(UserError);
    expect(() => parseLobsterMessages(buf(text), { file: 'm.csv', strict: true })).toThrow(/^m\.csv:2: direction is not 1 or -1/);
  });

  it('a missing file is a UserError naming the path', () => {
    expect(() => readInput('/nonexistent/x.csv', 'message')).toThrow(UserError);
    expect(() => readInput('/nonexistent/x.csv', 'message')).toThrow(/\/nonexistent\/x\.csv: cannot read the message file \(no such file\)/);
  });
});

describe('parseLobsterOrderbook', () => {
  it('infers the depth and marks bad rows invalid in place', () => {
    const dl = new DeadLetters();
    const ob = parseLobsterOrderbook(buf('101,5,99,3,102,1,-9999999999,0\n101,5,99\n9999999999,0,99,3,9999999999,0,-9999999999,0\n'), { deadLetters: dl });
    expect(ob.levels).toBe(2);
    expect(ob.rows).toBe(3);
    expect(Array.from(ob.valid)).toEqual([1, 0, 1]);
    expect(Array.from(ob.data.subarray(0, 8))).toEqual([101, 5, 99, 3, 102, 1, -9999999999, 0]);
    expect(ob.data[16]).toBe(9999999999);
    expect(dl.entries[0]).toMatchObject({ line: 2, reason: 'expected 8 columns (2 levels)' });
  });

  it('rejects a file whose depth is not the one asked for', () => {
    expect(() => parseLobsterOrderbook(buf('1,2,3,4\n'), { file: 'b.csv', levels: 2 })).toThrow(/^b\.csv:1: expected 2 levels/);
  });
});

describe.skipIf(!HAVE_DATA)(SHARED.title('on the shared LOBSTER files'), () => {
  it('parses the AAPL hour, including its float-noise row, without dead letters', () => {
    const dl = new DeadLetters();
    const m = parseLobsterMessages(readFileSync(DATA + 'AAPL_2012-06-21_34200000_37800000_message_50.csv'), { deadLetters: dl });
    expect(m.count).toBe(91_997);
    expect(dl.count).toBe(0);
    expect(m.timeNs[0]).toBe(34_200_004_241_176);
    expect(m.line[39_482]).toBe(39_483);
    expect(m.timeNs[39_482]).toBe(35_821_088_778_456);
    for (let k = 1; k < m.count; k++) if (m.timeNs[k]! < m.timeNs[k - 1]!) throw new Error(`time goes back at row ${k + 1}`);
    const types = new Map<number, number>();
    for (const t of m.type) types.set(t, (types.get(t) ?? 0) + 1);
    expect(types.get(6)).toBeUndefined();
    expect(types.get(5)! + types.get(4)! + types.get(3)! + types.get(2)! + types.get(1)!).toBe(91_997);
  });

  it('reads the TSLA cross (type 6, id -1) on row 3', () => {
    const m = parseLobsterMessages(readFileSync(DATA + 'TSLA_2015-01-07_34200000_57600000_message_10_SAMPLE.csv'));
    expect(m.type[2]).toBe(LobsterType.Cross);
    expect(m.orderId[2]).toBe(-1);
    expect(m.size[2]).toBe(19725);
    expect(m.timeNs[2]).toBe(34_200_492_462_611);
  });
});

/** A slow, obviously-correct reading of one message row (strings and regexes), for the randomized check below. */
function referenceRow(text: string): number[] | null {
  const f = text.split(',');
  if (f.length !== 6) return null;
  const tm = /^(\d{1,6})(?:\.(\d+))?$/.exec(f[0]!);
  if (!tm) return null;
  const fr = tm[2] ?? '';
  const ns = Number(tm[1]) * 1e9 + Number(fr.slice(0, 9).padEnd(9, '0')) + (fr.length > 9 && fr[9]! >= '5' ? 1 : 0);
  const ints = f.slice(1).map((x) => (/^-?\d{1,15}$/.test(x) ? Number(x) : Number.NaN));
  const [ty, id, sz, px, dir] = ints as [number, number, number, number, number];
  if (!(ty >= 1 && ty <= 7) || Number.isNaN(id) || Number.isNaN(sz) || sz < 0 || Number.isNaN(px) || (dir !== 1 && dir !== -1)) return null;
  if (sz === 0 && ty <= 4) return null;
  return [ns, ty, id, sz, px, dir];
}

describe('parseLobsterMessages against a string-based reference', () => {
  for (const seed of ['parse-1', 'parse-2', 'parse-3']) {
    it(`agrees on random good and broken rows (seed ${seed})`, async () => {
      const { default: seedrandom } = await import('seedrandom');
      const rng = seedrandom(seed);
      const pick = <T,>(xs: T[]): T => xs[Math.floor(rng() * xs.length)]!;
      const rows: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const frac = pick(['', '.', '.5', '.004241176', '.088778456004', '.0000000049', '.9999999995', '.1234567895']);
        const f = [
          `${Math.floor(rng() * 90000)}${frac}`,
          pick(['1', '2', '3', '4', '5', '6', '7', '0', '8', '01', '-1', '']),
          pick(['16113575', '0', '-1', '007', 'x', '']),
          pick(['18', '0', '-5', '100', '1e3', '']),
          pick(['5853300', '-1', '9999999999', '-9999999999', '58.5', '--1']),
          pick(['1', '-1', '0', '2', '+1', '-', '1 ']),
        ];
        const mutate = rng();
        if (mutate < 0.05) f.pop();
        else if (mutate < 0.1) f.push('0');
        let row = f.join(',');
        if (rng() < 0.05) row += '\r';
        if (rng() < 0.02) row = '';
        rows.push(row);
      }
      const text = rows.join('\n') + (rng() < 0.5 ? '\n' : '');
      const dl = new DeadLetters();
      const m = parseLobsterMessages(Buffer.from(text, 'latin1'), { deadLetters: dl });
      let k = 0;
      const badLines: number[] = [];
      rows.forEach((r, i) => {
        const row = r.endsWith('\r') ? r.slice(0, -1) : r;
        if (row === '') return;
        const want = referenceRow(row);
        const ctx = `seed ${seed}, line ${i + 1}: ${row}`;
        expect(m.line[k], ctx).toBe(i + 1);
        if (want === null) {
          badLines.push(i + 1);
          expect(m.type[k], ctx).toBe(0);
        } else {
          expect([m.timeNs[k], m.type[k], m.orderId[k], m.size[k], m.price[k], m.direction[k]], ctx).toEqual(want);
        }
        k++;
      });
      expect(m.count).toBe(k);
      expect(dl.entries.map((e) => e.line)).toEqual(badLines);
    });
  }
});
