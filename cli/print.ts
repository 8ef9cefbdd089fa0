import { tableStyle } from './table-style.js';
import chalk from 'chalk';
import Table from 'cli-table3';
import type { RunResult } from '../sim/run.js';
import type { Scenario } from '../sim/scenario.js';
import { formatNs } from '../sim/scenario-time.js';
import { join } from 'node:path';

export function printRunResult(sc: Scenario, outDir: string, r: RunResult, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ outDir, summary: r.summary, timings: r.timings }, null, 2) + '\n');
    return;
  }
  const s = r.summary;
  const out: string[] = [];
  out.push(chalk.bold(`${s.scenario}`) + chalk.dim(` (seed ${s.seed})`) + ` -> ${outDir}`);
  const t = new Table({ style: tableStyle(), head: ['instrument', 'trades', 'volume', 'open', 'high', 'low', 'close', 'bid', 'ask', 'resting'] });
  for (const i of s.instruments) {
    t.push([
      i.symbol,
      i.trades,
      i.volume,
      i.open ?? '-',
      i.high ?? '-',
      i.low ?? '-',
      i.close ?? '-',
      i.bestBid ? `${i.bestBidSize} @ ${i.bestBid}` : '-',
      i.bestAsk ? `${i.bestAskSize} @ ${i.bestAsk}` : '-',
      i.restingOrders,
    ]);
  }
  out.push(t.toString());
  const counts = new Table({ style: tableStyle(), head: ['event', 'count'] });
  for (const [k, v] of Object.entries(s.eventCounts)) counts.push([k, v]);
  const rej = new Table({ style: tableStyle(), head: ['reject / cancel reason', 'count'] });
  for (const [k, v] of Object.entries(s.rejects)) rej.push([`reject: ${k}`, v]);
  for (const [k, v] of Object.entries(s.cancels)) rej.push([`cancel: ${k}`, v]);
  out.push(counts.toString());
  if (rej.length > 0) out.push(rej.toString());
  out.push(...deadLetterLines(sc, outDir, s));
  out.push(`events: ${s.events}  sha256: ${s.eventsSha256}`);
  if (r.timings) {
    const tm = r.timings;
    out.push(
      chalk.dim(
        `wall ${fmtMs(tm.wallMs)}: feed wait ${fmtMs(tm.feedWaitMs)}, matching+emit ${fmtMs(tm.matchingMs)}, output drain ${fmtMs(tm.outputDrainMs)}; ` +
          `${Math.round(tm.eventsPerSecond).toLocaleString('en-US')} events/s, ${tm.commands.toLocaleString('en-US')} commands`,
      ),
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

interface ReplayFeedSummary {
  instrument: string;
  deadLetters: number;
  deadLetterFile?: string;
}

/** One line per replay feed with bad rows: how many were skipped and where they are. */
export function deadLetterLines(sc: Scenario, outDir: string, s: RunResult['summary']): string[] {
  const feeds = (s.extra?.replay as { feeds?: ReplayFeedSummary[] } | undefined)?.feeds ?? [];
  const specs = sc.feeds.flatMap((f) => (f.kind === 'synthetic' ? [] : [f]));
  const out: string[] = [];
  feeds.forEach((f, i) => {
    if (f.deadLetters === 0) return;
    const spec = specs[i];
    const where = spec !== undefined && spec.deadLetter !== null ? spec.deadLetter : join(outDir, f.deadLetterFile ?? '');
    out.push(chalk.yellow(`dead letters: ${f.instrument} ${f.deadLetters.toLocaleString('en-US')} malformed rows skipped`) + ` (file:line, reason and raw row in ${where})`);
  });
  return out;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export interface ProgressPrinter {
  (virtualNs: number, events: number): void;
  /** End the line on a terminal (the progress line is rewritten in place with \r), so what follows starts on its own line. */
  end(): void;
}

/** A progress line on stderr for runs longer than a couple of seconds. */
export function progressPrinter(wallMs: () => number, tty = process.stderr.isTTY === true, write: (s: string) => void = (s) => void process.stderr.write(s)): ProgressPrinter {
  const start = wallMs();
  let last = start;
  let open = false;
  const every = tty ? 250 : 5000;
  const update = (virtualNs: number, events: number) => {
    const t = wallMs();
    if (t - start < 2000 || t - last < every) return;
    last = t;
    const line = `  virtual ${formatNs(virtualNs)}  events ${events.toLocaleString('en-US')}  ${((t - start) / 1000).toFixed(1)} s`;
    write(tty ? `\r${line}` : `${line}\n`);
    open = tty;
  };
  return Object.assign(update, {
    end() {
      if (open) write('\n');
      open = false;
    },
  });
}
