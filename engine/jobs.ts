/**
 * End-of-day job scheduler on virtual time. Pure: it never reads a clock or sets a timer;
 * the caller owns the clock and asks it what to run when.
 *
 * Jobs are registered once with a name, the names they depend on, and a function. A run for a
 * business date (`begin(day, nowNs)`) walks the jobs in registration order (dependencies must be
 * registered first, so the order is topological and deterministic):
 * - a job runs when every dependency has succeeded; it takes no virtual time;
 * - a job fails when it throws or returns `false`; it is retried at
 *   nowNs + baseBackoffNs * factor^(attempt-1), up to `maxAttempts` attempts in all;
 * - once out of attempts it is `failed`, and every job depending on it (directly or not) is
 *   `skipped` without running;
 * - every attempt and every skip is reported through `onAttempt` for the audit log.
 *
 * Use: `const run = jobs.begin(day, t)`; then while `run.nextWakeNs >= 0`, set a timer for
 * `run.nextWakeNs` on the virtual clock and call `run.advance(timerNs)` when it fires.
 * `begin` already runs everything runnable at `t`.
 *
 * API
 * - `new JobScheduler({ baseBackoffNs, backoffFactor = 2, maxAttempts = 3, onAttempt })`
 * - `register(name, deps, run: (day, attempt, nowNs) => boolean | void, maxAttempts?)`
 * - `begin(day, nowNs)` -> `JobRun` with `advance(nowNs)` -> next wake time or -1, `nextWakeNs`,
 *   `status(name)`, `done`.
 */
import { assert } from './assert.js';

export type JobFn = (day: number, attempt: number, nowNs: number) => boolean | void;

export enum JobStatus {
  Pending = 0,
  /** Failed at least once; a retry is scheduled. */
  Retrying = 1,
  Succeeded = 2,
  Failed = 3,
  Skipped = 4,
}

export const JOB_STATUS_NAME = ['pending', 'retrying', 'succeeded', 'failed', 'skipped'] as const;

export interface JobAttempt {
  readonly day: number;
  readonly job: string;
  /** 1-based; 0 for a skip (the job never ran). */
  readonly attempt: number;
  readonly tsNs: number;
  /** 'succeeded' | 'failed' (retry follows or not) | 'skipped' */
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  /** Error message when the job threw; a returned `false` gives 'returned false'. For a skip: the failed dependency. */
  readonly detail: string;
  /** When the next attempt is due, or -1 when there is none. */
  readonly retryAtNs: number;
}

export interface JobSchedulerOptions {
  readonly baseBackoffNs: number;
  readonly backoffFactor?: number;
  readonly maxAttempts?: number;
  readonly onAttempt?: (a: JobAttempt) => void;
}

/** A named bound: an end-of-day with more jobs than this is a configuration mistake. */
export const JOBS_MAX = 256;
export const JOB_ATTEMPTS_MAX = 32;

interface JobDef {
  readonly name: string;
  readonly deps: readonly number[];
  readonly run: JobFn;
  readonly maxAttempts: number;
}

export class JobScheduler {
  private readonly defs: JobDef[] = [];
  private readonly byName = new Map<string, number>();
  readonly baseBackoffNs: number;
  readonly backoffFactor: number;
  readonly maxAttempts: number;
  readonly onAttempt: (a: JobAttempt) => void;

  constructor(opts: JobSchedulerOptions) {
    assert(Number.isSafeInteger(opts.baseBackoffNs) && opts.baseBackoffNs > 0, 'jobs: baseBackoffNs must be a positive integer');
    this.baseBackoffNs = opts.baseBackoffNs;
    this.backoffFactor = opts.backoffFactor ?? 2;
    assert(Number.isInteger(this.backoffFactor) && this.backoffFactor >= 1, 'jobs: backoffFactor must be an integer >= 1');
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.onAttempt = opts.onAttempt ?? (() => {});
  }

  register(name: string, deps: readonly string[], run: JobFn, maxAttempts = this.maxAttempts): void {
    assert(!this.byName.has(name), `jobs: ${name} registered twice`);
    assert(this.defs.length < JOBS_MAX, 'jobs: too many jobs');
    assert(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= JOB_ATTEMPTS_MAX, `jobs: ${name}: maxAttempts must be 1..${JOB_ATTEMPTS_MAX}`);
    const depIdx = deps.map((d) => {
      const i = this.byName.get(d);
      // Requiring dependencies to exist already rules out cycles and fixes a topological order.
      assert(i !== undefined, `jobs: ${name} depends on ${d}, which is not registered (register dependencies first)`);
      return i;
    });
    this.byName.set(name, this.defs.length);
    this.defs.push({ name, deps: depIdx, run, maxAttempts });
  }

  get jobNames(): string[] {
    return this.defs.map((d) => d.name);
  }

  begin(day: number, nowNs: number): JobRun {
    const run = new JobRun(this, this.defs, day);
    run.advance(nowNs);
    return run;
  }
}

export class JobRun {
  private readonly status: Uint8Array;
  private readonly attempts: Int32Array;
  private readonly dueNs: Float64Array;
  private wake = -1;
  private lastNs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sched: JobScheduler,
    private readonly defs: readonly JobDef[],
    readonly day: number,
  ) {
    this.status = new Uint8Array(defs.length);
    this.attempts = new Int32Array(defs.length);
    this.dueNs = new Float64Array(defs.length);
  }

  get nextWakeNs(): number {
    return this.wake;
  }

  get done(): boolean {
    for (let j = 0; j < this.defs.length; j++) if (this.status[j]! < JobStatus.Succeeded) return false;
    return true;
  }

  statusOf(name: string): JobStatus {
    const j = this.defs.findIndex((d) => d.name === name);
    assert(j >= 0, `jobs: unknown job ${name}`);
    return this.status[j] as JobStatus;
  }

  /** Runs everything due at `nowNs`; returns the next time something is due, or -1 when the run is over. */
  advance(nowNs: number): number {
    assert(nowNs >= this.lastNs, 'jobs: time went backwards');
    this.lastNs = nowNs;
    // One pass in topological order settles every job whose fate is decided at nowNs,
    // because a job only depends on jobs earlier in the order.
    for (let j = 0; j < this.defs.length; j++) {
      const st = this.status[j]!;
      if (st >= JobStatus.Succeeded) continue;
      if (st === JobStatus.Retrying && this.dueNs[j]! > nowNs) continue;
      const def = this.defs[j]!;
      let blockedBy = -1;
      let waiting = false;
      for (const d of def.deps) {
        const ds = this.status[d]!;
        if (ds === JobStatus.Failed || ds === JobStatus.Skipped) blockedBy = d;
        else if (ds !== JobStatus.Succeeded) waiting = true;
      }
      if (blockedBy >= 0) {
        this.status[j] = JobStatus.Skipped;
        this.sched.onAttempt({ day: this.day, job: def.name, attempt: 0, tsNs: nowNs, outcome: 'skipped', detail: `dependency ${this.defs[blockedBy]!.name} did not succeed`, retryAtNs: -1 });
        continue;
      }
      if (waiting) continue;
      const attempt = ++this.attempts[j];
      let ok: boolean;
      let detail = '';
      try {
        ok = def.run(this.day, attempt, nowNs) !== false;
        if (!ok) detail = 'returned false';
      } catch (e) {
        ok = false;
        detail = e instanceof Error ? e.message : String(e);
      }
      if (ok) {
        this.status[j] = JobStatus.Succeeded;
        this.sched.onAttempt({ day: this.day, job: def.name, attempt, tsNs: nowNs, outcome: 'succeeded', detail, retryAtNs: -1 });
        continue;
      }
      if (attempt >= def.maxAttempts) {
        this.status[j] = JobStatus.Failed;
        this.sched.onAttempt({ day: this.day, job: def.name, attempt, tsNs: nowNs, outcome: 'failed', detail, retryAtNs: -1 });
        continue;
      }
      const backoff = this.sched.baseBackoffNs * this.sched.backoffFactor ** (attempt - 1);
      const at = nowNs + backoff;
      assert(Number.isSafeInteger(at), 'jobs: retry time overflows');
      this.status[j] = JobStatus.Retrying;
      this.dueNs[j] = at;
      this.sched.onAttempt({ day: this.day, job: def.name, attempt, tsNs: nowNs, outcome: 'failed', detail, retryAtNs: at });
    }
    let wake = -1;
    for (let j = 0; j < this.defs.length; j++) {
      if (this.status[j] === JobStatus.Retrying && (wake < 0 || this.dueNs[j]! < wake)) wake = this.dueNs[j]!;
    }
    this.wake = wake;
    return wake;
  }
}
