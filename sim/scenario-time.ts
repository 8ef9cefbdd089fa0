/**
 * Virtual time as written in files and reports. Virtual time is an integer count of
 * nanoseconds since midnight of the session date. Everything here works on digit
 * strings and integer calendar arithmetic: a float would silently lose the last
 * nanoseconds ("09:30:00.000000001" * 1e9 is not exact), and there is no time zone,
 * no daylight saving and no leap second in virtual time.
 */

import { daysFromCivil, daysInMonth, formatDate } from '../engine/calendar.js';

export const NS_PER_SECOND = 1_000_000_000;
export const NS_PER_DAY = 86_400 * NS_PER_SECOND;

/**
 * How far after the session date a timestamp may lie. 2^53 ns is about 104 days;
 * a round limit below it keeps every time of every allowed day a safe integer.
 */
export const DAYS_AFTER_SESSION_MAX = 100;

/** A timestamp or date string that does not parse. The message says what was expected and what was found. */
export class TimeFormatError extends RangeError {
  override name = 'TimeFormatError';
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const DATE_TIME_RE = /^(\d{4}-\d{2}-\d{2})T(.*)$/;

export const TIME_OF_DAY_EXPECTED = 'a time of day "HH:MM:SS" with up to 9 fractional digits, like "09:30:00" or "09:30:00.000000001"';
export const DATE_EXPECTED = 'a date "YYYY-MM-DD", like "2026-01-05"';
export const DATE_TIME_EXPECTED =
  'a time "HH:MM:SS[.fffffffff]" on the session date or "YYYY-MM-DDTHH:MM:SS[.fffffffff]" on a later date, like "09:30:00.5" or "2026-01-06T09:30:00"';

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 57) + '...' : s);
}

/** Parse "YYYY-MM-DD" (a real calendar date) into days since 1970-01-01. */
export function parseDateDays(s: string): number {
  const m = DATE_RE.exec(s);
  if (!m) throw new TimeFormatError(`expected ${DATE_EXPECTED}, got ${show(s)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) {
    throw new TimeFormatError(`expected a real calendar date "YYYY-MM-DD", got ${show(s)}`);
  }
  return daysFromCivil(y, mo, d);
}

export function formatDateDays(days: number): string {
  return formatDate(days);
}

/** Parse "HH:MM:SS[.fffffffff]" into nanoseconds since midnight (0 <= result < NS_PER_DAY). */
export function parseTimeOfDayNs(s: string): number {
  const m = TIME_RE.exec(s);
  if (!m) throw new TimeFormatError(`expected ${TIME_OF_DAY_EXPECTED}, got ${show(s)}`);
  const hh = Number(m[1]);
  const mm = Number(m[2]);
  const ss = Number(m[3]);
  if (hh > 23 || mm > 59 || ss > 59) {
    throw new TimeFormatError(`expected a time of day from 00:00:00 to 23:59:59.999999999, got ${show(s)}`);
  }
  // The fraction is read as a 9-digit integer of nanoseconds, never as a float.
  const fracNs = Number((m[4] ?? '').padEnd(9, '0'));
  return ((hh * 60 + mm) * 60 + ss) * NS_PER_SECOND + fracNs;
}

/**
 * Parse a timestamp relative to the session date: "HH:MM:SS[.f]" is on the session date;
 * "YYYY-MM-DDTHH:MM:SS[.f]" may name the session date or a later one (up to
 * DAYS_AFTER_SESSION_MAX days). Returns nanoseconds since midnight of the session date.
 */
export function parseDateTimeNs(sessionDate: string, s: string): number {
  const sessionDays = parseDateDays(sessionDate);
  const dt = DATE_TIME_RE.exec(s);
  if (!dt) {
    if (!TIME_RE.test(s)) throw new TimeFormatError(`expected ${DATE_TIME_EXPECTED}, got ${show(s)}`);
    return parseTimeOfDayNs(s);
  }
  const days = parseDateDays(dt[1]!) - sessionDays;
  if (days < 0) throw new TimeFormatError(`${show(s)} is before the session date ${sessionDate}`);
  if (days > DAYS_AFTER_SESSION_MAX) {
    throw new TimeFormatError(`${show(s)} is more than ${DAYS_AFTER_SESSION_MAX} days after the session date ${sessionDate}`);
  }
  return days * NS_PER_DAY + parseTimeOfDayNs(dt[2]!);
}

/**
 * Format virtual nanoseconds for messages and reports: "HH:MM:SS.fffffffff" on the
 * session date. Later days are written as a full date when the session date is given
 * ("2026-01-06T09:30:00.000000000", which parseDateTimeNs reads back), else as "+1d 09:30:00.000000000".
 */
export function formatNs(ns: number, sessionDate?: string): string {
  if (!Number.isSafeInteger(ns)) throw new RangeError(`not a safe integer: ${ns}`);
  if (ns < 0) return '-' + formatNs(-ns);
  const days = Math.floor(ns / NS_PER_DAY);
  const inDay = ns - days * NS_PER_DAY;
  const fracNs = inDay % NS_PER_SECOND;
  const secs = (inDay - fracNs) / NS_PER_SECOND;
  const hh = Math.floor(secs / 3600);
  const mm = Math.floor((secs % 3600) / 60);
  const ss = secs % 60;
  const tod = `${pad2(hh)}:${pad2(mm)}:${pad2(ss)}.${String(fracNs).padStart(9, '0')}`;
  if (days === 0) return tod;
  if (sessionDate !== undefined) return `${formatDateDays(parseDateDays(sessionDate) + days)}T${tod}`;
  return `+${days}d ${tod}`;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}
