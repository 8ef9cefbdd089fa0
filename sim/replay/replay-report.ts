import { basename, join } from 'node:path';
import { prepareLobsterFeed, prepareTardisFeed, type ReplayFeedReport } from '../feeds/replay-feed.js';
import type { RunComponent } from '../run.js';
import type { LobsterFeedSpec, Scenario, TardisFeedSpec } from '../scenario.js';

/**
 * The main thread's view of a run's replay feeds. The feeds themselves may
 * run in a worker and cannot report back, so their sources are parsed here
 * once more before the run: --strict stops with the file and line before
 * anything runs, and the dead letters reach the summary and their file.
 */
export class ReplayReportComponent implements RunComponent {
  readonly name = 'replay';
  private readonly reports: { spec: LobsterFeedSpec | TardisFeedSpec; report: ReplayFeedReport }[] = [];

  constructor(private readonly sc: Scenario) {
    for (const f of sc.feeds) {
      if (f.kind === 'lobster') this.reports.push({ spec: f, report: prepareLobsterFeed(f) });
      else if (f.kind === 'tardis') this.reports.push({ spec: f, report: prepareTardisFeed(f) });
    }
  }

  get active(): boolean {
    return this.reports.length > 0;
  }

  finish(_ctx: unknown, runDir: string, extra: Record<string, unknown>): void {
    const used = new Set<string>();
    const feeds = this.reports.map(({ spec, report }, i) => {
      const symbol = this.sc.instruments[report.instrument]!.symbol;
      const dl = report.deadLetters;
      // Never only a count: without an explicit path the rows go beside the run's
      // other files, so each can be found by file:line and read raw.
      let file: string | null = null;
      if (dl.count > 0) {
        const path = spec.deadLetter ?? join(runDir, defaultDeadLetterFile(symbol, i, used));
        dl.write(path);
        file = basename(path);
      } else if (spec.deadLetter !== null) dl.write(spec.deadLetter);
      return {
        feed: spec.path,
        type: report.type,
        instrument: symbol,
        // Base names only: the summary is a golden file and must not depend on where the data lives.
        files: report.files.map((f) => basename(f)),
        rows: report.rows,
        deadLetters: dl.count,
        ...(file !== null ? { deadLetterFile: file } : {}),
      };
    });
    extra.replay = { feeds };
  }
}

/** deadletter-<SYMBOL>.csv in the run directory; a second feed on the same symbol adds its index. */
export const DEAD_LETTER_FILE_PREFIX = 'deadletter-';

function defaultDeadLetterFile(symbol: string, feedIndex: number, used: Set<string>): string {
  let name = `${DEAD_LETTER_FILE_PREFIX}${symbol}.csv`;
  if (used.has(name)) name = `${DEAD_LETTER_FILE_PREFIX}${symbol}-${feedIndex}.csv`;
  used.add(name);
  return name;
}
