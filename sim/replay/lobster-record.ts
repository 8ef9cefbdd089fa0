import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { toUnits } from '../../engine/decimal.js';
import { EventType, type EventRecord } from '../../engine/event.js';
import { Side } from '../../engine/types.js';
import { UserError } from '../errors.js';
import type { RunComponent, RunContext } from '../run.js';
import type { Scenario } from '../scenario.js';
import { LobsterRecorder } from './lobster-writer.js';

export interface LobsterRecordOptions {
  /** Directory for <SYMBOL>_message.csv and <SYMBOL>_orderbook.csv; the run's directory when absent. */
  dir?: string;
  /** Levels per order book row. */
  levels: number;
}

export const LOBSTER_RECORD_LEVELS_DEFAULT = 10;

/** What the recorder knows of one resting order: side + 1 (0 = not resting), price, leaves. */
const ORDERS_INITIAL = 1 << 12;

/**
 * Records the market data a run produces, per order-book instrument, as
 * LOBSTER files: an order coming to rest is an add (type 1), a fill of a
 * resting order an execution (4), a partial cancel or size-down a cancel (2),
 * a full cancel, expiry or re-pricing a delete (3). Incoming quantity that never
 * rests (IOC remainders, rejected orders) is not in a LOBSTER book and is not
 * written. Sizes are in lots, prices in dollars x 10000. Replayed instruments
 * are skipped: their source files are already the recording.
 */
export class LobsterRecordComponent implements RunComponent {
  readonly name = 'lobster-record';
  private readonly recorders: (LobsterRecorder | null)[];
  private side = new Uint8Array(ORDERS_INITIAL);
  private price = new Float64Array(ORDERS_INITIAL);
  private leaves = new Float64Array(ORDERS_INITIAL);
  /** Files written, for the caller to print. */
  readonly written: string[] = [];

  constructor(
    private readonly sc: Scenario,
    private readonly opts: LobsterRecordOptions,
  ) {
    if (!Number.isSafeInteger(opts.levels) || opts.levels < 1 || opts.levels > 1000) {
      throw new UserError(`--record-levels must be a whole number from 1 to 1000, got ${opts.levels}`);
    }
    const replayed = new Set(sc.feeds.filter((f) => f.kind !== 'synthetic').map((f) => f.instrument));
    this.recorders = sc.instruments.map((ins) => {
      if (replayed.has(ins.index)) return null;
      const pricePerTick = toUnits(ins.tickSize, '0.0001');
      if (!Number.isSafeInteger(pricePerTick) || pricePerTick < 1) {
        throw new UserError(`${sc.file}: instruments[${ins.index}].tickSize ${JSON.stringify(ins.tickSize)} cannot be recorded as LOBSTER: its prices are whole multiples of 0.0001`);
      }
      return new LobsterRecorder({ levels: opts.levels, pricePerTick });
    });
    // Checked before the run: otherwise it would run, write nothing and say nothing.
    if (this.recorders.every((r) => r === null)) {
      throw new UserError(
        `--record-lobster: every instrument of ${sc.name} (${sc.instruments.map((i) => i.symbol).join(', ')}) is replayed from recorded data, so there is no order book to record; its recorded files are already the record`,
      );
    }
  }

  onEvent(e: EventRecord): void {
    const t = e.type;
    if (t !== EventType.OrderRested && t !== EventType.Trade && t !== EventType.OrderCancelled && t !== EventType.OrderExpired && t !== EventType.OrderModified) return;
    const r = this.recorders[e.instrument];
    if (r === undefined || r === null) return;
    const ts = e.tsNs;
    switch (t) {
      case EventType.OrderRested: {
        const id = e.orderId;
        if (id >= this.side.length) this.grow(id);
        this.side[id] = e.side + 1;
        this.price[id] = e.priceTicks;
        this.leaves[id] = e.leavesLots;
        r.add(ts, id, e.side as Side, e.priceTicks, e.leavesLots);
        break;
      }
      case EventType.Trade: {
        const id = e.makerOrderId;
        if (!this.resting(id)) break;
        r.execute(ts, id, (this.side[id]! - 1) as Side, e.priceTicks, e.sizeLots);
        this.leaves[id] = e.makerLeavesLots;
        if (e.makerLeavesLots === 0) this.side[id] = 0;
        break;
      }
      case EventType.OrderCancelled:
      case EventType.OrderExpired: {
        const id = e.orderId;
        if (!this.resting(id)) break;
        const side = (this.side[id]! - 1) as Side;
        if (t === EventType.OrderCancelled && e.leavesLots > 0) {
          r.cancel(ts, id, side, this.price[id]!, e.sizeLots);
          this.leaves[id] = e.leavesLots;
        } else {
          r.delete(ts, id, side, this.price[id]!, e.sizeLots);
          this.side[id] = 0;
        }
        break;
      }
      default: {
        const id = e.orderId;
        if (!this.resting(id)) break;
        const side = (this.side[id]! - 1) as Side;
        const had = this.leaves[id]!;
        if ((e.flags & 1) !== 0) {
          r.cancel(ts, id, side, this.price[id]!, had - e.sizeLots);
          this.leaves[id] = e.sizeLots;
        } else {
          // Priority lost: it leaves its place; if it rests again, a rested event adds it.
          r.delete(ts, id, side, this.price[id]!, had);
          this.side[id] = 0;
        }
      }
    }
  }

  finish(_ctx: RunContext, runDir: string): void {
    const dir = this.opts.dir ?? runDir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UserError(`${dir}: cannot create the recording directory (${(e as Error).message})`);
    }
    this.sc.instruments.forEach((ins, i) => {
      const r = this.recorders[i];
      if (!r) return;
      const m = join(dir, `${ins.symbol}_message.csv`);
      const b = join(dir, `${ins.symbol}_orderbook.csv`);
      r.write(m, b);
      this.written.push(m, b);
    });
  }

  /** The recorder of an instrument (null for a replayed one): for tests. */
  recorder(instrument: number): LobsterRecorder | null {
    return this.recorders[instrument] ?? null;
  }

  private resting(id: number): boolean {
    return id < this.side.length && this.side[id]! > 0;
  }

  private grow(id: number): void {
    let n = this.side.length;
    while (n <= id) n *= 2;
    const s = new Uint8Array(n);
    s.set(this.side);
    const p = new Float64Array(n);
    p.set(this.price);
    const l = new Float64Array(n);
    l.set(this.leaves);
    this.side = s;
    this.price = p;
    this.leaves = l;
  }
}
