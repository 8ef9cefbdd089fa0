/**
 * The strategy API: what a strategy module exports and the context it is given.
 * docs/strategies.md is the user's reference; this file is its source of truth.
 *
 * A module's default export is a factory, called once per run with the run's
 * params, so no state leaks from one run to the next (sweeps run many in one
 * process):
 *
 *   import type { StrategyFactory } from '../sim/strategy/api.js';
 *   const create: StrategyFactory = () => ({ onQuote(ctx, q) { ... } });
 *   export default create;
 *
 * Everything is in virtual time and integer units: prices in ticks, sizes in
 * lots, money in minor units (cents of the price currency). The objects passed
 * to handlers are reused after the handler returns: copy what you keep.
 */
import type { Rng } from '../rng.js';

export type SideName = 'buy' | 'sell';
export type OrderTypeName = 'limit' | 'market' | 'stop-market' | 'stop-limit';
export type TifName = 'GTC' | 'DAY' | 'IOC' | 'FOK';

export interface InstrumentInfo {
  readonly index: number;
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly referencePriceTicks: number;
}

/** L1 as the strategy sees it (feed latency later than the venue). NO_PRICE sides are null. */
export interface Quote {
  readonly instrument: number;
  readonly bidTicks: number | null;
  readonly bidLots: number;
  readonly askTicks: number | null;
  readonly askLots: number;
  /** When the venue published it. */
  readonly venueTsNs: number;
}

/**
 * A trade on the public tape: on an order book every trade, own ones included, as real
 * feeds publish them; on a replayed instrument the recorded prints (own fills against
 * history are not added to the tape: the recorded print that filled them is there).
 */
export interface MarketTrade {
  readonly instrument: number;
  readonly priceTicks: number;
  readonly sizeLots: number;
  /** null when the data does not say (a Tardis print without a side). */
  readonly aggressor: SideName | null;
  readonly venueTsNs: number;
}

export type OrderStatus = 'pending' | 'accepted' | 'open' | 'filled' | 'cancelled' | 'rejected' | 'expired';

/** One of the strategy's own orders, as far as acknowledgements have told it. */
export interface OrderView {
  readonly clOrdId: number;
  readonly instrument: number;
  readonly side: SideName;
  readonly type: OrderTypeName;
  readonly tif: TifName;
  readonly postOnly: boolean;
  /** Current limit price (0 for market orders). */
  readonly priceTicks: number;
  readonly stopPriceTicks: number;
  /** Current order size (after modifies). */
  readonly sizeLots: number;
  readonly filledLots: number;
  readonly leavesLots: number;
  readonly status: OrderStatus;
  /** A cancel or modify was sent and not yet answered. */
  readonly pendingChange: boolean;
  readonly tag: string;
  /** Venue order id, 0 until accepted. */
  readonly orderId: number;
  /** Reject or cancel reason name, '' otherwise. */
  readonly reason: string;
  readonly submittedNs: number;
}

export type OrderUpdateKind = 'accepted' | 'rested' | 'cancelled' | 'rejected' | 'expired' | 'modified' | 'modify-rejected' | 'cancel-rejected' | 'stop-triggered';

export interface OrderUpdate {
  readonly kind: OrderUpdateKind;
  readonly order: OrderView;
  /** Reason name for rejects and cancels ('' otherwise). */
  readonly reason: string;
  readonly venueTsNs: number;
}

/** How an own order met a replayed market (docs/replay.md): it crossed, its queue was reached, the market traded through it, or a recorded order crossed it. */
export type ReplayLiquidity = 'taker' | 'queue' | 'through' | 'crossed';

export interface Fill {
  readonly order: OrderView;
  readonly instrument: number;
  readonly side: SideName;
  readonly priceTicks: number;
  readonly sizeLots: number;
  /** Passive (the order was resting) or aggressive; decides the fee rate. */
  readonly liquidity: 'maker' | 'taker';
  /** On a replayed instrument, how it filled (maker = queue, through or crossed); null on an order book. */
  readonly replayLiquidity: ReplayLiquidity | null;
  /** Maker fills: ns from taking its place in the queue (resting, or a modify that lost priority) to this fill; null for taker fills. */
  readonly queueNs: number | null;
  /** Maker fills on a replayed instrument: displayed lots ahead of the order when it joined its queue; null otherwise. */
  readonly queueAtEntryLots: number | null;
  /** Signed: negative is a rebate. With accounts, what the venue charged (the instrument's schedule). */
  readonly feeMinor: number;
  /** The strategy's position in the instrument after this fill, in lots. */
  readonly positionLots: number;
  readonly venueTsNs: number;
}

export interface OrderRequest {
  /** Instrument index or symbol. */
  instrument: number | string;
  side: SideName;
  /** Default 'limit'. */
  type?: OrderTypeName;
  priceTicks?: number;
  stopPriceTicks?: number;
  sizeLots: number;
  /** Default 'GTC' ('IOC' for market orders). */
  tif?: TifName;
  postOnly?: boolean;
  /** Free text carried to orders.csv. */
  tag?: string;
}

export interface Pnl {
  realizedMinor: number;
  unrealizedMinor: number;
  feesMinor: number;
  /** realized + unrealized - fees. */
  totalMinor: number;
}

export interface StrategyContext {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Seeded from the scenario seed and the strategy name: the same run draws the same numbers. */
  readonly rng: Rng;
  readonly instruments: readonly InstrumentInfo[];
  readonly session: { readonly openNs: number; readonly closeNs: number };
  nowNs(): number;
  instrument(symbolOrIndex: string | number): InstrumentInfo;

  /** Sends an order; it reaches the venue after the order latency. Returns its clOrdId. */
  submit(req: OrderRequest): number;
  cancel(clOrdId: number): void;
  /** New price (limit orders) and size; a new price or a larger size loses time priority. */
  modify(clOrdId: number, change: { priceTicks?: number; sizeLots: number }): void;
  order(clOrdId: number): OrderView | undefined;
  /** Orders not yet filled, cancelled, rejected or expired (as acknowledged so far). */
  openOrders(instrument?: number | string): OrderView[];
  /** Position in lots from the fills acknowledged so far. */
  position(instrument: number | string): number;
  /**
   * P&L from acknowledged fills. Without accounts: marked at the latest mid the strategy has
   * seen. With accounts: the venue account's P&L as acknowledged (its fees; marks by the
   * instrument's markTo rule applied to what the strategy has seen).
   */
  pnl(): Pnl;
  /** The latest quote the strategy has seen (null before the first). */
  top(instrument: number | string): Quote | null;
  lastTrade(instrument: number | string): MarketTrade | null;

  /** A timer at an absolute virtual time or after a delay; onTimer gets the tag. Null if after the session close (never fires). */
  setTimer(when: { atNs: number } | { afterNs: number }, tag?: string): number | null;
  cancelTimer(id: number): boolean;

  /**
   * Declares a parent order to execute (TWAP, VWAP...): its arrival price is the
   * mid the strategy sees now, and implementation shortfall is measured against it.
   */
  beginParentOrder(p: { instrument: number | string; side: SideName; sizeLots: number }): void;

  /** A line in DIR/strategy.log, prefixed with the virtual time and the strategy name. */
  log(...parts: unknown[]): void;
}

export interface Strategy {
  /** At the session open. */
  onStart?(ctx: StrategyContext): void;
  onQuote?(ctx: StrategyContext, q: Quote): void;
  onTrade?(ctx: StrategyContext, t: MarketTrade): void;
  onOrderUpdate?(ctx: StrategyContext, u: OrderUpdate): void;
  onFill?(ctx: StrategyContext, f: Fill): void;
  onTimer?(ctx: StrategyContext, tag: string, timerId: number): void;
  /** After the run: no more orders; for final logging. */
  onEnd?(ctx: StrategyContext): void;
}

export type StrategyFactory = (params: Readonly<Record<string, unknown>>) => Strategy;

/** Helper for authors: identity, typed. */
export function defineStrategy(f: StrategyFactory): StrategyFactory {
  return f;
}
