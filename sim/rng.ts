import seedrandom from 'seedrandom';
// Hot paths throw directly: a template-literal message passed to assert() is built on every call.
import { assert, InvariantError } from '../engine/assert.js';

/**
 * A seeded random stream for one purpose. Every consumer (each synthetic
 * agent, the bank's faults, latency draws) derives its own stream from the
 * scenario seed and its purpose name, so adding a consumer never shifts the
 * numbers another one sees.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hiInclusive]. */
  int(lo: number, hiInclusive: number): number;
  /** Exponential with the given rate (mean 1/rate): Poisson inter-arrival times. */
  exponential(rate: number): number;
  /** Standard normal (mean 0, sd 1). */
  normal(): number;
  pick<T>(arr: readonly T[]): T;
}

/**
 * Alea from the seedrandom package: fast, 2^116 period, and its output depends
 * only on the seed string, so a run reproduces on every platform. V8's
 * Math.log and Math.cos are deterministic ports of fdlibm, so derived draws
 * reproduce too.
 */
export function rngStream(seed: number | string, purpose: string): Rng {
  assert(purpose.length > 0, 'rngStream needs a purpose name');
  return new AleaRng(seedrandom.alea(`${seed}/${purpose}`));
}

class AleaRng implements Rng {
  private spare = 0;
  private hasSpare = false;

  constructor(private readonly prng: seedrandom.PRNG) {}

  next(): number {
    // double(): 53 bits of randomness rather than alea's default 32.
    return this.prng.double();
  }

  int(lo: number, hiInclusive: number): number {
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hiInclusive) && hiInclusive >= lo)) throw new InvariantError(`rng.int needs integers lo <= hi, got ${lo}, ${hiInclusive}`);
    return lo + Math.floor(this.prng.double() * (hiInclusive - lo + 1));
  }

  exponential(rate: number): number {
    if (!(rate > 0 && rate < Infinity)) throw new InvariantError(`exponential rate must be positive, got ${rate}`);
    // 1 - u is in (0, 1], so the log is finite.
    return -Math.log(1 - this.prng.double()) / rate;
  }

  normal(): number {
    // Box-Muller yields two independent normals per pair of draws; the second is
    // kept for the next call, which halves the log/sqrt/trig cost per normal.
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u = 1 - this.prng.double();
    const v = this.prng.double();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * v;
    this.spare = r * Math.sin(a);
    this.hasSpare = true;
    return r * Math.cos(a);
  }

  pick<T>(arr: readonly T[]): T {
    assert(arr.length > 0, 'rng.pick from an empty array');
    return arr[Math.floor(this.prng.double() * arr.length)]!;
  }
}
