/**
 * Business calendar on integer day numbers: no Date objects, no time zones.
 *
 * A date is an "epoch day": days since 1970-01-01 (UTC civil calendar), converted
 * to and from YYYY-MM-DD with Howard Hinnant's integer algorithms. Virtual time 0 is
 * midnight at the start of the scenario date, so the day of an event is
 * `scenarioDay + floor(tsNs / NS_PER_DAY)`.
 *
 * API
 * - `parseDate('2024-03-15')` -> epoch day; `formatDate(day)` -> 'YYYY-MM-DD'; `weekday(day)` 0=Sunday..6=Saturday.
 * - `dayOfTs(scenarioDay, tsNs)`, `tsOfDay(scenarioDay, day, offsetNs = 0)`: virtual time <-> day.
 * - `new BusinessCalendar(holidays: string[], weekendDays = [0, 6])`
 *   - `isBusinessDay(day)`
 *   - `addBusinessDays(day, n)`: n > 0 moves to the n-th business day after `day`; n < 0 the
 *     n-th before; n = 0 returns `day` when it is a business day, else the next one (so a trade
 *     on a Saturday settles as if done on Monday: T+0 = Monday, T+1 = Tuesday).
 *   - `settlementDay(tradeDay, n = 1)`: T+n, which is `addBusinessDays(addBusinessDays(tradeDay, 0), n)`.
 *   - `nextBusinessDay(day)`, `previousBusinessDay(day)`.
 */
import { assert } from './assert.js';

export const NS_PER_DAY = 86_400_000_000_000;

/** A run of more business-day steps than this is a configuration bug (e.g. every day a holiday). */
export const CALENDAR_SCAN_MAX = 3_660;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil): integer operations only, exact for every 4-digit year.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The inverse of daysFromCivil: [year, month, day]. */
export function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719_468;
  const era = Math.floor(zz / 146_097);
  const doe = zz - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

export function parseDate(s: string): number {
  const m = DATE_RE.exec(s);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(s)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) throw new RangeError(`no such date: ${s}`);
  return daysFromCivil(y, mo, d);
}

export function formatDate(day: number): string {
  assert(Number.isSafeInteger(day), `day must be an integer: ${day}`);
  const [y, m, d] = civilFromDays(day);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday. */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function dayOfTs(scenarioDay: number, tsNs: number): number {
  return scenarioDay + Math.floor(tsNs / NS_PER_DAY);
}

export function tsOfDay(scenarioDay: number, day: number, offsetNs = 0): number {
  const ts = (day - scenarioDay) * NS_PER_DAY + offsetNs;
  assert(Number.isSafeInteger(ts), 'virtual time overflows');
  return ts;
}

export class BusinessCalendar {
  private readonly holidays = new Set<number>();
  private readonly weekend = new Uint8Array(7);

  constructor(holidays: readonly string[] = [], weekendDays: readonly number[] = [0, 6]) {
    for (const h of holidays) this.holidays.add(parseDate(h));
    for (const w of weekendDays) {
      assert(Number.isInteger(w) && w >= 0 && w <= 6, `weekend day must be 0..6: ${w}`);
      this.weekend[w] = 1;
    }
    assert(weekendDays.length < 7, 'a calendar needs at least one business weekday');
  }

  isBusinessDay(day: number): boolean {
    return this.weekend[weekday(day)] === 0 && !this.holidays.has(day);
  }

  isHoliday(day: number): boolean {
    return this.holidays.has(day);
  }

  nextBusinessDay(day: number): number {
    return this.addBusinessDays(day, 1);
  }

  previousBusinessDay(day: number): number {
    return this.addBusinessDays(day, -1);
  }

  addBusinessDays(day: number, n: number): number {
    assert(Number.isSafeInteger(day) && Number.isSafeInteger(n), 'addBusinessDays: integers only');
    let d = day;
    let scanned = 0;
    if (n === 0) {
      while (!this.isBusinessDay(d)) {
        d++;
        assert(++scanned <= CALENDAR_SCAN_MAX, 'no business day in range');
      }
      return d;
    }
    const step = n > 0 ? 1 : -1;
    let left = n > 0 ? n : -n;
    while (left > 0) {
      d += step;
      if (this.isBusinessDay(d)) left--;
      assert(++scanned <= CALENDAR_SCAN_MAX + Math.abs(n) * 7, 'no business day in range');
    }
    return d;
  }

  settlementDay(tradeDay: number, n = 1): number {
    assert(Number.isInteger(n) && n >= 0, `settlement lag must be >= 0: ${n}`);
    return this.addBusinessDays(this.addBusinessDays(tradeDay, 0), n);
  }
}
