import { assert, InvariantError, unreachable } from '../../engine/assert.js';
import { CommandRecord, commandToRecord, type Command } from '../../engine/command.js';
import { mergeFeeds } from './merge.js';
import { lobsterFeed, tardisFeed, type LobsterFeedParams, type TardisFeedParams } from './replay-feed.js';
import { syntheticFeed, type SyntheticFeedParams } from './synthetic.js';

/** A stream of commands in non-decreasing tsNs. next() fills `out` and returns true, or returns false at the end. */
export interface FeedSource {
  next(out: CommandRecord): boolean;
}

/**
 * A feed described as plain, structured-cloneable data, so the same feed can be
 * built on the calling thread (inlineFeed) or inside a worker (workerFeed) and
 * produce the same commands.
 */
export type FeedSpec =
  | { kind: 'synthetic'; params: SyntheticFeedParams; seed: number | string }
  /** A fixed list of commands (scenario actions, tests); tsNs must not decrease. */
  | { kind: 'commands'; commands: Command[] }
  /** Recorded market data for one replayed instrument (sim/feeds/replay-feed.ts). */
  | { kind: 'lobster'; params: LobsterFeedParams }
  | { kind: 'tardis'; params: TardisFeedParams };

export function buildFeed(spec: FeedSpec): FeedSource {
  assert(spec !== null && typeof spec === 'object', `feed spec must be an object, got ${JSON.stringify(spec)}`);
  switch (spec.kind) {
    case 'synthetic':
      return syntheticFeed(spec.params, spec.seed);
    case 'commands':
      return commandsFeed(spec.commands);
    case 'lobster':
      return lobsterFeed(spec.params);
    case 'tardis':
      return tardisFeed(spec.params);
    default:
      return unreachable(spec, 'feed spec kind');
  }
}

/** The merged feed of all specs, in spec order for equal timestamps, on the calling thread. */
export function inlineFeed(specs: readonly FeedSpec[]): FeedSource {
  return mergeFeeds(specs.map(buildFeed));
}

function commandsFeed(commands: readonly Command[]): FeedSource {
  for (let i = 1; i < commands.length; i++) {
    if (!(commands[i]!.tsNs >= commands[i - 1]!.tsNs)) throw new InvariantError(`commands feed: command ${i} goes back in time`);
  }
  let i = 0;
  return {
    next(out: CommandRecord): boolean {
      if (i >= commands.length) return false;
      commandToRecord(commands[i++]!, out);
      return true;
    },
  };
}
