import { basename } from 'node:path';
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

  finish(_ctx: unknown, _runDir: string, extra: Record<string, unknown>): void {
    const feeds = this.reports.map(({ spec, report }) => {
      if (spec.deadLetter !== null) report.deadLetters.write(spec.deadLetter);
      return {
        feed: spec.path,
        type: report.type,
        instrument: this.sc.instruments[report.instrument]!.symbol,
        // Base names only: the summary is a golden file and must not depend on where the data lives.
        files: report.files.map((f) => basename(f)),
        rows: report.rows,
        deadLetters: report.deadLetters.count,
      };
    });
    extra.replay = { feeds };
  }
}
