import type { CancelReason, Side } from './types.js';

/**
 * How a book reports what it did. Primitive arguments only, so the matching loop
 * allocates nothing; the exchange turns these calls into sequenced events.
 *
 * Order of calls for one command is the order things happened in the book.
 */
export interface BookListener {
  /** The aggressor (taker) traded `sizeLots` against resting maker at the maker's price. */
  onTrade(takerId: number, makerId: number, priceTicks: number, sizeLots: number, takerLeavesLots: number, makerLeavesLots: number): void;
  /** The incoming order, or what is left of it after matching, now rests in the book. */
  onRest(orderId: number, side: Side, priceTicks: number, leavesLots: number): void;
  /** Quantity left (or never entered) the book without trading. */
  onCancel(orderId: number, cancelledLots: number, reason: CancelReason): void;
  /** A price level's aggregate changed; sizeLots 0 means the level is gone. Called once per touched level per command, with its final state. */
  onLevel(side: Side, priceTicks: number, sizeLots: number, orderCount: number): void;
}

/** A listener that ignores everything: for benchmarks and for books nobody watches. */
export const NULL_BOOK_LISTENER: BookListener = {
  onTrade() {},
  onRest() {},
  onCancel() {},
  onLevel() {},
};
