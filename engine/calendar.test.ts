import { describe, expect, it } from 'vitest';
import { BusinessCalendar, dayOfTs, formatDate, NS_PER_DAY, parseDate, tsOfDay, weekday } from './calendar.js';

describe('calendar', () => {
  it('converts dates to epoch days and back with integers', () => {
    expect(parseDate('1970-01-01')).toBe(0);
    expect(parseDate('2000-03-01')).toBe(11_017);
    for (let d = -700_000; d < 2_900_000; d += 997) expect(parseDate(formatDate(d))).toBe(d);
    expect(formatDate(parseDate('2024-02-29'))).toBe('2024-02-29');
    expect(() => parseDate('2023-02-29')).toThrow();
    expect(() => parseDate('2024-1-01')).toThrow();
    expect(weekday(parseDate('2024-03-15'))).toBe(5); // a Friday
  });

  it('maps virtual time to days since the scenario date', () => {
    const s = parseDate('2024-03-15');
    expect(dayOfTs(s, 0)).toBe(s);
    expect(dayOfTs(s, NS_PER_DAY - 1)).toBe(s);
    expect(dayOfTs(s, 3 * NS_PER_DAY + 5)).toBe(s + 3);
    expect(tsOfDay(s, s + 2, 7)).toBe(2 * NS_PER_DAY + 7);
  });

  it('settles T+1 across a weekend and a holiday', () => {
    const cal = new BusinessCalendar(['2024-07-04', '2024-12-25', '2024-12-26']);
    const T = (s: string, n = 1) => formatDate(cal.settlementDay(parseDate(s), n));
    expect(T('2024-03-14')).toBe('2024-03-15'); // Thu -> Fri
    expect(T('2024-03-15')).toBe('2024-03-18'); // Fri -> Mon
    expect(T('2024-03-16')).toBe('2024-03-19'); // Sat trades as Mon -> Tue
    expect(T('2024-07-03')).toBe('2024-07-05'); // skips the holiday
    expect(T('2024-12-24')).toBe('2024-12-27');
    expect(T('2024-12-20', 3)).toBe('2024-12-27'); // Fri + Mon, Tue, (Wed, Thu holidays), Fri
    expect(T('2024-03-15', 0)).toBe('2024-03-15');
    expect(T('2024-03-16', 0)).toBe('2024-03-18');
  });

  it('adds business days forwards and backwards', () => {
    const cal = new BusinessCalendar(['2024-01-01']);
    const d = parseDate('2024-01-02'); // Tue, after a holiday Monday
    expect(cal.isBusinessDay(d)).toBe(true);
    expect(cal.isBusinessDay(parseDate('2024-01-01'))).toBe(false);
    expect(cal.isBusinessDay(parseDate('2024-01-06'))).toBe(false);
    expect(formatDate(cal.addBusinessDays(d, -1))).toBe('2023-12-29');
    expect(formatDate(cal.addBusinessDays(d, 5))).toBe('2024-01-09');
    expect(formatDate(cal.previousBusinessDay(parseDate('2024-01-08')))).toBe('2024-01-05');
    expect(() => new BusinessCalendar([], [0, 1, 2, 3, 4, 5, 6])).toThrow();
  });
});
