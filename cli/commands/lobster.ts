import { tableStyle } from '../table-style.js';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { performance } from 'node:perf_hooks';
import { DeadLetters } from '../../sim/replay/dead-letter.js';
import { replayLobster, type LobsterReplayResult } from '../../sim/replay/lobster-replay.js';
import { parseIntOption } from '../options.js';

interface LobsterCliOptions {
  messages: string;
  orderbook: string;
  seedBook?: string;
  levels?: string;
  compare?: string;
  bookOut?: string;
  deadLetter?: string;
  strict?: boolean;
  trackOrders?: boolean;
  json?: boolean;
}

/** `exsim lobster`: replay a LOBSTER day and prove it against the day's own order book file. */
export function registerLobster(program: Command): void {
  program
    .command('lobster')
    .description("replay LOBSTER messages statefully and compare the book after each message with the order book file's row")
    .requiredOption('--messages <file>', 'LOBSTER message file')
    .requiredOption('--orderbook <file>', 'LOBSTER order book file (row k = book after message k)')
    .option('--seed-book <file>', 'order book file whose first row seeds the book (default: --orderbook)')
    .option('--levels <n>', "levels in the order book file (default: from its first row)")
    .option('--compare <k>', 'top levels compared per row (default: all levels of the file)')
    .option('--book-out <file>', 'write the replayed book after each message in LOBSTER order book format')
    .option('--dead-letter <file>', 'write malformed rows here (.csv, or .ndjson)')
    .option('--strict', 'stop at the first malformed row')
    .option('--track-orders', 'keep order ids and count messages about orders never seen added (placed before the file starts)')
    .option('--json', 'print one JSON object')
    .action((o: LobsterCliOptions) => {
      const levels = parseIntOption(o.levels, '--levels');
      const compare = parseIntOption(o.compare, '--compare');
      const deadLetters = new DeadLetters();
      const r = replayLobster({
        messages: o.messages,
        orderbook: o.orderbook,
        seedBook: o.seedBook,
        levels,
        compare,
        bookOut: o.bookOut,
        strict: o.strict === true,
        deadLetters,
        trackOrders: o.trackOrders === true,
        now: () => performance.now(),
      });
      if (o.deadLetter !== undefined) deadLetters.write(o.deadLetter);
      process.stdout.write(o.json === true ? formatLobsterJson(r) : formatLobsterTable(r, o.deadLetter));
    });
}

export function formatLobsterJson(r: LobsterReplayResult): string {
  const out = {
    rows: r.rows,
    matched: r.matched,
    resynced: r.resynced,
    firstMismatchRow: r.firstMismatchRow,
    messagesPerSecond: r.messagesPerSecond,
    deadLetters: r.deadLetterCount,
    ...(r.orders ? { orders: r.orders } : {}),
  };
  return JSON.stringify(out) + '\n';
}

/** `deadLetterFile`: where --dead-letter wrote the bad rows, if it was given. */
export function formatLobsterTable(r: LobsterReplayResult, deadLetterFile?: string): string {
  const t = new Table({ style: tableStyle(), head: ['rows', 'matched', 'resynced', 'first mismatch row', 'messages/s', 'dead letters'] });
  t.push([r.rows, r.matched, r.resynced, r.firstMismatchRow ?? '-', r.messagesPerSecond.toLocaleString('en-US'), r.deadLetterCount]);
  let s = t.toString() + '\n';
  s += `top ${r.compare} of ${r.levels} levels compared; parse ${r.parseMs.toFixed(1)} ms, replay ${r.replayMs.toFixed(1)} ms\n`;
  if (r.orders) {
    const o = r.orders;
    s += `orders: ${o.unknown} messages about ids never added, ${o.inconsistent} inconsistent, ${o.duplicateAdds} duplicate adds, ${o.liveAtEnd} live at the end\n`;
  }
  if (r.unchecked > 0) s += `${r.unchecked} rows not compared (malformed order book rows)\n`;
  for (const d of r.deadLetters.slice(0, 5)) s += `dead letter ${d.file}:${d.line}: ${d.reason}\n`;
  if (r.deadLetterCount > 5) s += `... ${r.deadLetterCount - 5} more dead letters\n`;
  if (r.deadLetterCount > 0) {
    const kept = r.deadLetters.length;
    const which = kept < r.deadLetterCount ? `the first ${kept.toLocaleString('en-US')} of ${r.deadLetterCount.toLocaleString('en-US')}` : `all ${kept.toLocaleString('en-US')}`;
    s += deadLetterFile !== undefined ? `dead letters: ${which} written to ${deadLetterFile} (file, line, reason, raw row)\n` : `dead letters: --dead-letter <file> writes ${which} (file, line, reason, raw row)\n`;
  }
  return s;
}
