import { InvariantError } from '../engine/assert.js';
import { EventRecord, EventType } from '../engine/event.js';
import { OrderType } from '../engine/types.js';
import type { RunComponent, RunContext } from './run.js';

/**
 * The run-time invariant mode (`exsim run --check-invariants`, RunOptions.checkInvariantsEvery):
 * what the randomized tests check, on any scenario. The run loop calls the books' full
 * checkInvariants() every N inputs and at the end; this component follows every order
 * through the event stream:
 *
 * - quantity conservation: each trade, fill, cancel, expiry and modify must leave the order
 *   with exactly the leaves the event reports (what it had minus what left);
 * - one terminal state per order: once its leaves reach 0 (filled, cancelled, expired),
 *   no further event may name the order;
 * - at the end, the orders still open and not pending stops are exactly the books' resting orders.
 *
 * A broken invariant throws an InvariantError naming it: the run fails (exit 70), its
 * output is not published.
 */

const OPEN = 1;
const PENDING_STOP = 2;
const DONE = 3;

export class InvariantCheckComponent implements RunComponent {
  readonly name = 'invariants';
  /** Per orderId (ids are dense from 1): leaves in lots, state, instrument. Grown by doubling. */
  private leaves = new Float64Array(1024);
  private state = new Uint8Array(1024);
  private instrument = new Int32Array(1024);
  private events = 0;
  private ordersSeen = 0;
  private terminal = 0;

  onEvent(e: EventRecord): void {
    this.events++;
    switch (e.type) {
      case EventType.OrderAccepted: {
        const id = e.orderId;
        this.ensure(id);
        if (this.state[id] !== 0) this.fail('one terminal state per order', e, `order ${id} accepted twice`);
        this.state[id] = e.orderType === OrderType.StopMarket || e.orderType === OrderType.StopLimit ? PENDING_STOP : OPEN;
        this.leaves[id] = e.sizeLots;
        this.instrument[id] = e.instrument;
        this.ordersSeen++;
        if (!(e.sizeLots > 0 && Number.isSafeInteger(e.sizeLots))) this.fail('quantity conservation', e, `order ${id} accepted with size ${e.sizeLots}`);
        break;
      }
      case EventType.StopTriggered: {
        const id = this.live(e, e.orderId);
        if (this.state[id] !== PENDING_STOP) this.fail('one terminal state per order', e, `order ${id} triggered but it is not a pending stop`);
        this.state[id] = OPEN;
        break;
      }
      case EventType.Trade:
        this.reduce(e, e.orderId, e.sizeLots, e.leavesLots);
        this.reduce(e, e.makerOrderId, e.sizeLots, e.makerLeavesLots);
        break;
      case EventType.Fill:
        this.reduce(e, e.orderId, e.sizeLots, e.leavesLots);
        break;
      case EventType.OrderCancelled:
        this.reduce(e, e.orderId, e.sizeLots, e.leavesLots);
        break;
      case EventType.OrderExpired:
        this.reduce(e, e.orderId, e.sizeLots, 0);
        break;
      case EventType.OrderModified: {
        const id = this.live(e, e.orderId);
        // The modify event carries the new leaves in sizeLots (docs/events.md `leaves`).
        if (!(e.sizeLots > 0 && Number.isSafeInteger(e.sizeLots))) this.fail('quantity conservation', e, `order ${id} modified to leaves ${e.sizeLots}`);
        this.leaves[id] = e.sizeLots;
        break;
      }
      case EventType.OrderRested: {
        const id = this.live(e, e.orderId);
        if (this.leaves[id] !== e.leavesLots) this.fail('quantity conservation', e, `order ${id} rested with ${e.leavesLots} lots, its fills and cancels leave ${this.leaves[id]}`);
        break;
      }
      default:
        break;
    }
  }

  finish(ctx: RunContext, _runDir: string, extra: Record<string, unknown>): void {
    const n = ctx.scenario.instruments.length;
    const open = new Float64Array(n);
    for (let id = 1; id < this.state.length; id++) if (this.state[id] === OPEN) open[this.instrument[id]!]!++;
    for (let i = 0; i < n; i++) {
      const resting = ctx.exchange.restingCount(i);
      if (open[i] !== resting) {
        throw new InvariantError(
          `invariant broken: open orders = resting orders: ${ctx.scenario.instruments[i]!.symbol} has ${resting} resting orders in its book, the event stream leaves ${open[i]} open`,
        );
      }
    }
    // Not in summary.json: a run with the check on must give the same bytes as without.
    void extra;
  }

  /** What the check saw, for the CLI's report and tests. */
  stats(): { events: number; orders: number; terminal: number } {
    return { events: this.events, orders: this.ordersSeen, terminal: this.terminal };
  }

  private reduce(e: EventRecord, id: number, sizeLots: number, leavesAfter: number): void {
    this.live(e, id);
    const before = this.leaves[id]!;
    if (!(sizeLots > 0) || before - sizeLots !== leavesAfter) {
      this.fail('quantity conservation', e, `order ${id} had ${before} lots, ${sizeLots} left it, the event says ${leavesAfter} remain`);
    }
    this.leaves[id] = leavesAfter;
    if (leavesAfter === 0) {
      this.state[id] = DONE;
      this.terminal++;
    }
  }

  private live(e: EventRecord, id: number): number {
    if (id <= 0 || id >= this.state.length || this.state[id] === 0) this.fail('one terminal state per order', e, `order ${id} has an event but was never accepted`);
    if (this.state[id] === DONE) this.fail('one terminal state per order', e, `order ${id} has an event after its terminal state`);
    return id;
  }

  private ensure(id: number): void {
    if (!Number.isSafeInteger(id) || id <= 0) throw new InvariantError(`invariant broken: order ids: accepted order has id ${id}`);
    if (id < this.state.length) return;
    let cap = this.state.length;
    while (cap <= id) cap *= 2;
    const l = new Float64Array(cap);
    l.set(this.leaves);
    const s = new Uint8Array(cap);
    s.set(this.state);
    const i = new Int32Array(cap);
    i.set(this.instrument);
    this.leaves = l;
    this.state = s;
    this.instrument = i;
  }

  private fail(invariant: string, e: EventRecord, what: string): never {
    throw new InvariantError(`invariant broken: ${invariant}: ${what} (event seq ${e.seq}, type ${e.type}, virtual ns ${e.tsNs})`);
  }
}
