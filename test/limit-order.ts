import { type CommandRecord, CommandType } from '../engine/command.js';
import { OrderType, type Side, TimeInForce } from '../engine/types.js';

/** `into`, cleared and set to a GTC limit submit (instrument 0 unless given): the tests' usual order. */
export function limitOrder(into: CommandRecord, tsNs: number, account: number, clOrdId: number, side: Side, priceTicks: number, sizeLots: number, instrument = 0): CommandRecord {
  into.clear();
  into.type = CommandType.Submit;
  into.tsNs = tsNs;
  into.account = account;
  into.instrument = instrument;
  into.clOrdId = clOrdId;
  into.side = side;
  into.orderType = OrderType.Limit;
  into.tif = TimeInForce.GTC;
  into.priceTicks = priceTicks;
  into.sizeLots = sizeLots;
  return into;
}
