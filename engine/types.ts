/**
 * The small vocabulary shared by every stage of the core. Numeric enums so they
 * fit in typed arrays and binary ring records; names a trader would recognise.
 */

/** Identifiers are branded so an order id cannot be passed where an account index is expected. */
export type OrderId = number & { readonly __brand: 'OrderId' };
export type AccountIdx = number & { readonly __brand: 'AccountIdx' };
export type InstrumentIdx = number & { readonly __brand: 'InstrumentIdx' };

export enum Side {
  Buy = 0,
  Sell = 1,
}

export enum OrderType {
  Limit = 0,
  Market = 1,
  StopMarket = 2,
  StopLimit = 3,
}

export enum TimeInForce {
  GTC = 0,
  /** Expires at session close on the virtual clock. */
  DAY = 1,
  IOC = 2,
  FOK = 3,
}

/** Self-trade prevention: what happens when an incoming order would match a resting order of the same account. */
export enum StpMode {
  None = 0,
  CancelResting = 1,
  CancelIncoming = 2,
  CancelBoth = 3,
}

/** Why an order was refused. Every reject carries exactly one of these. */
export enum RejectReason {
  BadTick = 1,
  BadLot = 2,
  OutsidePriceBand = 3,
  UnknownOrder = 4,
  PostOnlyWouldCross = 5,
  FokCannotFill = 6,
  NoLiquidity = 7,
  UnknownInstrument = 8,
  UnknownAccount = 9,
  BadSize = 10,
  BadPrice = 11,
  DuplicateClientOrderId = 12,
  MarketClosed = 13,
  BadOrderType = 14,
  PoolFull = 15,
  PriceLevelsFull = 16,
  ModifyNoChange = 17,
  BadStopPrice = 18,
  // Pre-trade risk (engine/risk.ts).
  KillSwitch = 19,
  MaxOrderSize = 20,
  MaxOrderNotional = 21,
  PriceCollar = 22,
  LongPositionLimit = 23,
  ShortPositionLimit = 24,
  GrossExposureLimit = 25,
  NetExposureLimit = 26,
  InsufficientBuyingPower = 27,
  InsufficientMargin = 28,
  MaxOpenOrders = 29,
  RateLimit = 30,
}

/** Why a resting or incoming quantity left the book without trading. */
export enum CancelReason {
  /** The owner asked. */
  User = 1,
  /** IOC or market remainder that found no more liquidity. */
  ImmediateRemainder = 2,
  /** Self-trade prevention removed it. */
  SelfTrade = 3,
  /** DAY order at session close. */
  Expired = 4,
  /**
   * A triggered stop that pre-trade risk refused on its way to the book (the RejectReason in
   * the event's flags): a stop-market order whose walk of the book ends beyond its stop price,
   * where buying power or margin cannot cover it at the new price.
   */
  Risk = 5,
}

export const SIDE_NAME = ['buy', 'sell'] as const;
export const ORDER_TYPE_NAME = ['limit', 'market', 'stop-market', 'stop-limit'] as const;
export const TIF_NAME = ['GTC', 'DAY', 'IOC', 'FOK'] as const;
export const STP_NAME = ['none', 'cancel-resting', 'cancel-incoming', 'cancel-both'] as const;

export const REJECT_NAME: Record<RejectReason, string> = {
  [RejectReason.BadTick]: 'bad-tick',
  [RejectReason.BadLot]: 'bad-lot',
  [RejectReason.OutsidePriceBand]: 'outside-price-band',
  [RejectReason.UnknownOrder]: 'unknown-order',
  [RejectReason.PostOnlyWouldCross]: 'post-only-would-cross',
  [RejectReason.FokCannotFill]: 'fok-cannot-fill',
  [RejectReason.NoLiquidity]: 'no-liquidity',
  [RejectReason.UnknownInstrument]: 'unknown-instrument',
  [RejectReason.UnknownAccount]: 'unknown-account',
  [RejectReason.BadSize]: 'bad-size',
  [RejectReason.BadPrice]: 'bad-price',
  [RejectReason.DuplicateClientOrderId]: 'duplicate-client-order-id',
  [RejectReason.MarketClosed]: 'market-closed',
  [RejectReason.BadOrderType]: 'bad-order-type',
  [RejectReason.PoolFull]: 'pool-full',
  [RejectReason.PriceLevelsFull]: 'price-levels-full',
  [RejectReason.ModifyNoChange]: 'modify-no-change',
  [RejectReason.BadStopPrice]: 'bad-stop-price',
  [RejectReason.KillSwitch]: 'kill-switch',
  [RejectReason.MaxOrderSize]: 'max-order-size',
  [RejectReason.MaxOrderNotional]: 'max-order-notional',
  [RejectReason.PriceCollar]: 'price-collar',
  [RejectReason.LongPositionLimit]: 'long-position-limit',
  [RejectReason.ShortPositionLimit]: 'short-position-limit',
  [RejectReason.GrossExposureLimit]: 'gross-exposure-limit',
  [RejectReason.NetExposureLimit]: 'net-exposure-limit',
  [RejectReason.InsufficientBuyingPower]: 'insufficient-buying-power',
  [RejectReason.InsufficientMargin]: 'insufficient-margin',
  [RejectReason.MaxOpenOrders]: 'max-open-orders',
  [RejectReason.RateLimit]: 'rate-limit',
};

export const CANCEL_REASON_NAME: Record<CancelReason, string> = {
  [CancelReason.User]: 'user',
  [CancelReason.ImmediateRemainder]: 'immediate-remainder',
  [CancelReason.SelfTrade]: 'self-trade',
  [CancelReason.Expired]: 'expired',
  [CancelReason.Risk]: 'risk',
};

/** Sentinel for "no price" in typed arrays (e.g. an empty side's best price). */
export const NO_PRICE = -0x80000000;
