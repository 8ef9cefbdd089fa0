/**
 * A strategy as the scenario declares it, normalised to integer units (the
 * loader in sim/scenario.ts builds it; docs/strategies.md is the reference).
 */

/** A latency in integer nanoseconds: fixed, or drawn per message from a seeded stream. */
export type LatencyDist =
  | { type: 'constant'; ns: number }
  | { type: 'uniform'; minNs: number; maxNs: number }
  /** exp(N(ln medianNs, sigma)), capped at maxNs: the usual long right tail of network latency. */
  | { type: 'lognormal'; medianNs: number; sigma: number; maxNs: number };

export interface LatencySpec {
  /** Market data: venue event -> the strategy sees it. */
  feed: LatencyDist;
  /** Order entry: the strategy sends -> the venue applies it. */
  order: LatencyDist;
  /** Acknowledgements and fills: venue event about an own order -> the strategy sees it. */
  ack: LatencyDist;
}

export interface FeeRate {
  makerBps: number;
  takerBps: number;
}

export interface StrategySpec {
  index: number;
  /** "strategies[0]", for messages. */
  path: string;
  name: string;
  /** As written in the scenario, for messages. */
  module: string;
  /** Absolute path of the module file (resolved against the scenario file's folder). */
  moduleFile: string;
  account: number;
  /** Instruments whose market data the strategy receives (all by default). */
  instruments: number[];
  params: Record<string, unknown>;
  latency: LatencySpec;
  /** Fee rate per instrument index (every instrument of the scenario). */
  fees: FeeRate[];
  /** Equity, inventory and book samples every this many ns of virtual time (Sharpe's sampling interval). */
  sampleNs: number;
  /** The strategy's client order ids start here: above every feed's and action's range of the same account. */
  clOrdIdStart: number;
}

/** Strategy s's clOrdIds start at STRATEGY_CLORDID_BASE * (s + 1); feeds use up to 1e9 * 1001. */
export const STRATEGY_CLORDID_BASE = 1_000_000_000_000;

export const STRATEGY_LIMITS = {
  strategiesMax: 100,
  latencyNsMax: 60_000_000_000,
  sampleNsMin: 1_000_000,
  samplesMax: 2_000_000,
} as const;

export const ZERO_LATENCY: LatencyDist = { type: 'constant', ns: 0 };
