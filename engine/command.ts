import type { OrderType, Side, StpMode, TimeInForce } from './types.js';

/**
 * Commands in. Producers (synthetic agents, replay readers, scenario actions,
 * strategies) address their own orders by (account, clOrdId); the exchange
 * assigns the venue's order ids. Within an account a clOrdId is used once.
 */
export enum CommandType {
  Submit = 1,
  Cancel = 2,
  Modify = 3,
  // 80-89: recorded market data replayed into a ReplayVenue (engine/replay-venue.ts).
  // Fields: side (resting side), priceTicks, sizeLots, clOrdId = the data's order or trade id.
  /** Displayed size added at a level (LOBSTER type 1, an L2 level growing). */
  HistAdd = 80,
  /** Displayed size removed without trading (LOBSTER types 2 and 3, an L2 level shrinking). */
  HistReduce = 81,
  /** A visible resting order traded (LOBSTER type 4): size leaves the level and prints. */
  HistExecute = 82,
  /** A print that leaves the displayed book as it is; flags = MarketTradeKind, side 2 = unknown. */
  HistTrade = 83,
  /** A snapshot replaces the book: side 0, 1, or 2 for both. */
  HistClear = 84,
  /** End of a producer's stream (ring control record, never reaches the exchange). */
  EndOfStream = 99,
}

/** Flag bits on a submit. */
export const FLAG_POST_ONLY = 1;

export type SubmitCommand = {
  type: 'submit';
  tsNs: number;
  instrument: number;
  account: number;
  clOrdId: number;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  /** Limit price in ticks (limit and stop-limit; ignored for market). */
  priceTicks: number;
  sizeLots: number;
  /** Trigger price in ticks (stop orders only). */
  stopPriceTicks?: number;
  postOnly?: boolean;
  /** Overrides the account's self-trade prevention mode for this order. */
  stp?: StpMode;
};

export type CancelCommand = { type: 'cancel'; tsNs: number; instrument: number; account: number; clOrdId: number };

/** Size down at the same price keeps time priority; a new price or a larger size loses it. */
export type ModifyCommand = {
  type: 'modify';
  tsNs: number;
  instrument: number;
  account: number;
  clOrdId: number;
  priceTicks: number;
  sizeLots: number;
};

export type Command = SubmitCommand | CancelCommand | ModifyCommand;

/** STP value meaning "use the account's default". */
export const STP_ACCOUNT_DEFAULT = -1;

/** The reused, allocation-free form of a command on the hot path and in rings. */
export class CommandRecord {
  type: CommandType = CommandType.Submit;
  tsNs = 0;
  instrument = 0;
  account = 0;
  clOrdId = 0;
  side = 0;
  orderType = 0;
  tif = 0;
  priceTicks = 0;
  sizeLots = 0;
  stopPriceTicks = 0;
  flags = 0;
  stp = STP_ACCOUNT_DEFAULT;
  /** Index into the scenario's actions, or -1 when the command came from a feed. */
  actionIndex = -1;

  clear(): void {
    this.type = CommandType.Submit;
    this.tsNs = this.instrument = this.account = this.clOrdId = 0;
    this.side = this.orderType = this.tif = this.priceTicks = this.sizeLots = 0;
    this.stopPriceTicks = this.flags = 0;
    this.stp = STP_ACCOUNT_DEFAULT;
    this.actionIndex = -1;
  }
}

export const COMMAND_SLOTS = 14;

export function encodeCommand(c: CommandRecord, out: Float64Array, at: number): void {
  out[at] = c.type;
  out[at + 1] = c.tsNs;
  out[at + 2] = c.instrument;
  out[at + 3] = c.account;
  out[at + 4] = c.clOrdId;
  out[at + 5] = c.side;
  out[at + 6] = c.orderType;
  out[at + 7] = c.tif;
  out[at + 8] = c.priceTicks;
  out[at + 9] = c.sizeLots;
  out[at + 10] = c.stopPriceTicks;
  out[at + 11] = c.flags;
  out[at + 12] = c.stp;
  out[at + 13] = c.actionIndex;
}

export function decodeCommand(src: Float64Array, at: number, c: CommandRecord): void {
  c.type = src[at] as CommandType;
  c.tsNs = src[at + 1]!;
  c.instrument = src[at + 2]!;
  c.account = src[at + 3]!;
  c.clOrdId = src[at + 4]!;
  c.side = src[at + 5]!;
  c.orderType = src[at + 6]!;
  c.tif = src[at + 7]!;
  c.priceTicks = src[at + 8]!;
  c.sizeLots = src[at + 9]!;
  c.stopPriceTicks = src[at + 10]!;
  c.flags = src[at + 11]!;
  c.stp = src[at + 12]!;
  c.actionIndex = src[at + 13]!;
}

/** Fill a record from the readable union form (scenario actions, tests). */
export function commandToRecord(cmd: Command, out: CommandRecord, actionIndex = -1): CommandRecord {
  out.clear();
  out.tsNs = cmd.tsNs;
  out.instrument = cmd.instrument;
  out.account = cmd.account;
  out.clOrdId = cmd.clOrdId;
  out.actionIndex = actionIndex;
  switch (cmd.type) {
    case 'submit':
      out.type = CommandType.Submit;
      out.side = cmd.side;
      out.orderType = cmd.orderType;
      out.tif = cmd.tif;
      out.priceTicks = cmd.priceTicks;
      out.sizeLots = cmd.sizeLots;
      out.stopPriceTicks = cmd.stopPriceTicks ?? 0;
      out.flags = cmd.postOnly ? FLAG_POST_ONLY : 0;
      out.stp = cmd.stp ?? STP_ACCOUNT_DEFAULT;
      break;
    case 'cancel':
      out.type = CommandType.Cancel;
      break;
    case 'modify':
      out.type = CommandType.Modify;
      out.priceTicks = cmd.priceTicks;
      out.sizeLots = cmd.sizeLots;
      break;
  }
  return out;
}
