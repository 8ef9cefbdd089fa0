/**
 * "Hot paths allocate nothing", checked on the build (dist/, as `npm test` builds it first):
 * bench/alloc.bench.ts runs the risk bench's stream through the exchange alone and with
 * pre-trade risk, after warm-up, and reports bytes per command from the V8 heap's used size
 * over a run that no garbage collection interrupted (the quietest of four). A run builds its
 * exchange, books and risk anew (0.13 bytes a command for matching and 0.32 with risk at this
 * size), so the bound is 2: one boxed number per order event would be ~8 or more (a one-element
 * array per order update in risk gives ~43), and matching allocated ~40 a command before
 * session 9 (assertion messages built on every call, client order ids in a Map per account).
 * Until session 11 the figure came from V8's sampling heap profiler, whose later sampling
 * windows report allocation the heap does not show; it failed about one run in six.
 * Since session 14 the whole back office is held too, and risk and the back office also with
 * an institution's amounts (every amount beyond 2^31 minor units: `--large-money`); since
 * session 15 a single lot's notional and margin are beyond it too, and a position's margin
 * product beyond 2^53.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Allocation } from '../bench/alloc.bench.js';

const script = join(import.meta.dirname, '../dist/bench/alloc.bench.js');

describe('hot paths allocate nothing', () => {
  it('matching and matching with risk allocate under 2 bytes a command once warm', () => {
    const out = execFileSync(process.execPath, [script, '--json', '200000', 'matching', 'risk'], { encoding: 'utf8' });
    const rs = JSON.parse(out) as Allocation[];
    expect(rs.map((r) => r.mode)).toEqual(['matching', 'risk']);
    for (const r of rs) expect(r.bytesPerCommand, `${r.mode}: ${r.bytesPerCommand.toFixed(2)} bytes/command; largest: ${r.top.join('; ')}`).toBeLessThan(2);
  });

  // The same with lots worth LARGE_MONEY times as much: an order's notional and margin, a
  // reservation and an exposure beyond 2^31 minor units, as an institution's are, and since
  // session 15 a single lot's notional and margin too. A number that is no small integer is
  // boxed in a new heap number wherever it is passed to or returned from a call V8 does not
  // inline, which the usual amounts cannot show: before session 14, risk allocated 12.8 bytes
  // a command here (a margin's growth and a cash buy's need passed to helpers, a margin split
  // over a partly closing side), and before session 15, with lots worth 500,000 times the
  // usual, 8.5 (the reference notional a lot passed to the exposure helpers).
  it('risk allocates under 2 bytes a command once warm with an institution\'s amounts', () => {
    const out = execFileSync(process.execPath, [script, '--json', '--large-money', '200000', 'risk'], { encoding: 'utf8' });
    const [r] = JSON.parse(out) as Allocation[];
    expect(r!.moneyScale).toBeGreaterThan(1);
    expect(r!.bytesPerCommand, `risk with large amounts: ${r!.bytesPerCommand.toFixed(2)} bytes/command; largest: ${r!.top.join('; ')}`).toBeLessThan(2);
  });

  // The whole back office: risk, plus a ledger transfer, fees, portfolio and clearing records
  // on every trade, and the margin check on every margin account's order. Its runs grow a
  // ledger (typed arrays, so collections for external memory), so only some runs are clean:
  // at 100k commands a run most are, and the figure is ~1.3 bytes a command, all of it the
  // run's own setup. One boxed number per trade adds ~3.4 (a trade's timestamp passed to the
  // clearing, as before session 14) and one per margin check ~2 (the margin excess returned
  // across a call), so the bound is 2.5.
  it('the whole back office allocates under 2.5 bytes a command once warm', () => {
    const out = execFileSync(process.execPath, [script, '--json', '100000', 'back-office'], { encoding: 'utf8' });
    const [r] = JSON.parse(out) as Allocation[];
    expect(r!.source, 'every measured run was interrupted by a collection: no heap figure to judge').toBe('heap');
    expect(r!.bytesPerCommand, `back-office: ${r!.bytesPerCommand.toFixed(2)} bytes/command; largest: ${r!.top.join('; ')}`).toBeLessThan(2.5);
  });

  // And with an institution's amounts, as risk above: before session 14 the back office
  // allocated 18-23 bytes a command here (a trade's cash passed to the ledger's post, to the
  // obligations and to the clearing events, the notional returned to the clearing, a closing
  // fill's cost passed to the division, the margin excess returned to risk), and before
  // session 15, with lots worth 500,000 times the usual, 8.9 (a position's margin taken
  // through BigInt once notional x rate passed 2^53).
  it('the whole back office allocates under 2.5 bytes a command once warm with an institution\'s amounts', () => {
    const out = execFileSync(process.execPath, [script, '--json', '--large-money', '100000', 'back-office'], { encoding: 'utf8' });
    const [r] = JSON.parse(out) as Allocation[];
    expect(r!.moneyScale).toBeGreaterThan(1);
    expect(r!.source, 'every measured run was interrupted by a collection: no heap figure to judge').toBe('heap');
    expect(r!.bytesPerCommand, `back-office with large amounts: ${r!.bytesPerCommand.toFixed(2)} bytes/command; largest: ${r!.top.join('; ')}`).toBeLessThan(2.5);
  });
});
