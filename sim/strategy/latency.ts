import { InvariantError } from '../../engine/assert.js';
import type { Rng } from '../rng.js';
import type { LatencyDist } from './spec.js';

/**
 * One latency channel (feed, order entry or acks) of one strategy. Messages on
 * a channel arrive in the order they were sent, as on a TCP session or a
 * sequenced multicast feed: a draw shorter than the previous message's
 * remaining delay waits behind it. Messages sent at the same virtual time (one
 * venue reaction: accepted, rested, quote) share one draw, so a burst is
 * delivered together.
 */
export class LatencyChannel {
  private lastSentNs = -1;
  private lastArrivalNs = 0;
  private readonly logMedian: number;

  constructor(
    private readonly dist: LatencyDist,
    private readonly rng: Rng,
  ) {
    this.logMedian = dist.type === 'lognormal' ? Math.log(Math.max(dist.medianNs, 1)) : 0;
  }

  /** Virtual time at which a message sent at sentNs arrives. */
  arrival(sentNs: number): number {
    if (sentNs === this.lastSentNs) return this.lastArrivalNs;
    if (sentNs < this.lastSentNs) throw new InvariantError('latency channel: messages must be sent in time order');
    this.lastSentNs = sentNs;
    const t = sentNs + this.draw();
    this.lastArrivalNs = t > this.lastArrivalNs ? t : this.lastArrivalNs;
    return this.lastArrivalNs;
  }

  draw(): number {
    const d = this.dist;
    switch (d.type) {
      case 'constant':
        return d.ns;
      case 'uniform':
        return this.rng.int(d.minNs, d.maxNs);
      case 'lognormal': {
        if (d.sigma === 0) return d.medianNs;
        const x = Math.round(Math.exp(this.logMedian + d.sigma * this.rng.normal()));
        return x < d.maxNs ? x : d.maxNs;
      }
    }
  }
}
