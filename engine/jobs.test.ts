import { describe, expect, it } from 'vitest';
import { type JobAttempt, JobScheduler, JobStatus } from './jobs.js';

function chain(failures: Record<string, number>, maxAttempts = 3) {
  const log: JobAttempt[] = [];
  const ran: string[] = [];
  const s = new JobScheduler({ baseBackoffNs: 1_000, maxAttempts, onAttempt: (a) => log.push(a) });
  const job = (name: string) => (_day: number, attempt: number) => {
    ran.push(`${name}#${attempt}`);
    if (attempt <= (failures[name] ?? 0)) {
      if (name === 'margin-calls') throw new Error('bank timeout');
      return false;
    }
    return true;
  };
  s.register('mark-to-market', [], job('mark-to-market'));
  s.register('margin-calls', ['mark-to-market'], job('margin-calls'));
  s.register('settlement', ['margin-calls'], job('settlement'));
  s.register('statements', ['settlement'], job('statements'));
  s.register('pnl-snapshot', ['mark-to-market'], job('pnl-snapshot'));
  return { s, log, ran };
}

function drive(s: JobScheduler, day: number, t0: number) {
  const run = s.begin(day, t0);
  let n = 0;
  while (run.nextWakeNs >= 0) {
    run.advance(run.nextWakeNs);
    expect(++n).toBeLessThan(100);
  }
  return run;
}

describe('end-of-day jobs', () => {
  it('runs jobs in dependency order at the start time when all succeed', () => {
    const { s, ran, log } = chain({});
    const run = drive(s, 100, 5);
    expect(ran).toEqual(['mark-to-market#1', 'margin-calls#1', 'settlement#1', 'statements#1', 'pnl-snapshot#1']);
    expect(run.done).toBe(true);
    expect(log.every((a) => a.tsNs === 5 && a.outcome === 'succeeded')).toBe(true);
  });

  it('retries with exponential backoff in virtual time, then continues', () => {
    const { s, log } = chain({ 'margin-calls': 2 });
    const run = drive(s, 100, 0);
    const mc = log.filter((a) => a.job === 'margin-calls');
    expect(mc.map((a) => [a.attempt, a.tsNs, a.outcome, a.retryAtNs])).toEqual([
      [1, 0, 'failed', 1_000],
      [2, 1_000, 'failed', 3_000],
      [3, 3_000, 'succeeded', -1],
    ]);
    expect(mc[0]!.detail).toBe('bank timeout');
    expect(log.find((a) => a.job === 'statements')!.tsNs).toBe(3_000);
    expect(log.find((a) => a.job === 'pnl-snapshot')!.tsNs).toBe(0);
    expect(run.statusOf('statements')).toBe(JobStatus.Succeeded);
  });

  it('skips every job downstream of a job that ran out of attempts', () => {
    const { s, log, ran } = chain({ settlement: 99 }, 2);
    const run = drive(s, 100, 0);
    expect(run.statusOf('settlement')).toBe(JobStatus.Failed);
    expect(run.statusOf('statements')).toBe(JobStatus.Skipped);
    expect(run.statusOf('pnl-snapshot')).toBe(JobStatus.Succeeded);
    expect(ran).not.toContain('statements#1');
    const skip = log.find((a) => a.job === 'statements')!;
    expect(skip).toMatchObject({ outcome: 'skipped', attempt: 0, detail: 'dependency settlement did not succeed' });
    expect(log.filter((a) => a.job === 'settlement').map((a) => a.detail)).toEqual(['returned false', 'returned false']);
  });

  it('refuses unknown dependencies and duplicates', () => {
    const s = new JobScheduler({ baseBackoffNs: 1 });
    s.register('a', [], () => true);
    expect(() => s.register('b', ['c'], () => true)).toThrow(/not registered/);
    expect(() => s.register('a', [], () => true)).toThrow(/twice/);
  });
});
