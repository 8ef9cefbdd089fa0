/**
 * The hash of the engine's open-addressing tables (OrderIndex, ClientOrders): a number's
 * integer part mixed from its low and high 32 bits, so that counters and recorded order ids
 * up to 2^53 spread over the table. Fractions hash by their integer part; the tables compare
 * the full key.
 */
export function hashId(id: number): number {
  const lo = id | 0;
  const hi = (id / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  return h;
}
