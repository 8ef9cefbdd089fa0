import { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../sim/errors.js';
import { registerLobster } from './lobster.js';

const DATA = fileURLToPath(new URL('../../../shared/data/lobster/', import.meta.url));
const HAVE_DATA = existsSync(DATA);
if (!HAVE_DATA) console.warn(`skipping lobster CLI data tests: ${DATA} not found`);

function run(args: string[]): string {
  const program = new Command().exitOverride();
  registerLobster(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    program.parse(['node', 'exsim', 'lobster', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe.skipIf(!HAVE_DATA)('exsim lobster', () => {
  it('--json prints one object with the counts', () => {
    const out = run([
      '--messages', DATA + 'TSLA_2015-01-07_34200000_57600000_message_10_SAMPLE.csv',
      '--orderbook', DATA + 'TSLA_2015-01-07_34200000_57600000_orderbook_10_SAMPLE.csv',
      '--compare', '9', '--json',
    ]);
    const j = JSON.parse(out);
    expect(j).toMatchObject({ rows: 49, matched: 49, resynced: 0, firstMismatchRow: null });
    expect(j.messagesPerSecond).toBeGreaterThan(0);
    expect(j.orders).toBeUndefined();
  });

  it('--track-orders adds the order counts', () => {
    const out = run([
      '--messages', DATA + 'AAPL_2012-06-21_message_50_first672.csv',
      '--orderbook', DATA + 'AAPL_2012-06-21_orderbook_50_first672.csv',
      '--compare', '49', '--track-orders',
    ]);
    expect(out).toContain('orders: 12 messages about ids never added, 0 inconsistent, 0 duplicate adds, 288 live at the end');
  });

  it('prints a table, and writes dead letters for a bad row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lobster-cli-'));
    const msgs = readFileSync(DATA + 'TSLA_2015-01-07_34200000_57600000_message_10_SAMPLE.csv', 'latin1').split('\n');
    msgs[4] = '34200.5,1,1,-3,100,1';
    const m = join(dir, 'm.csv');
    writeFileSync(m, msgs.join('\n'));
    const dl = join(dir, 'dead-letter.ndjson');
    const out = run(['--messages', m, '--orderbook', DATA + 'TSLA_2015-01-07_34200000_57600000_orderbook_10_SAMPLE.csv', '--compare', '9', '--dead-letter', dl]);
    expect(out).toMatch(/rows.*matched.*resynced/);
    expect(out).toContain(`dead letter ${m}:5: size is negative`);
    expect(JSON.parse(readFileSync(dl, 'utf8').trim())).toEqual({ file: m, line: 5, reason: 'size is negative', raw: '34200.5,1,1,-3,100,1' });
    expect(out).toContain(`dead letters: all 1 written to ${dl}`);
    // Without --dead-letter the rows are still counted and shown, and the output says how to keep them.
    const plain = run(['--messages', m, '--orderbook', DATA + 'TSLA_2015-01-07_34200000_57600000_orderbook_10_SAMPLE.csv', '--compare', '9']);
    expect(plain).toContain(`dead letter ${m}:5: size is negative`);
    expect(plain).toContain('dead letters: --dead-letter <file> writes all 1 (file, line, reason, raw row)');
    expect(() => run(['--messages', m, '--orderbook', DATA + 'TSLA_2015-01-07_34200000_57600000_orderbook_10_SAMPLE.csv', '--strict'])).toThrow(
      new RegExp(`${m}:5: size is negative`),
    );
  });
});

describe('exsim lobster input errors', () => {
  it('a missing file and a bad number are UserErrors', () => {
    expect(() => run(['--messages', '/no/m.csv', '--orderbook', '/no/b.csv'])).toThrow(UserError);
    expect(() => run(['--messages', '/no/m.csv', '--orderbook', '/no/b.csv', '--compare', 'x'])).toThrow(/--compare: expected an integer/);
  });
});
