import { z } from 'zod';

/**
 * The building blocks of every input schema (scenario, payments, strategies).
 * Each schema carries what it expects as its error message; the scenario's issue
 * mapper adds the file, the JSON path and what was found.
 */

/** Marks an unrecognized-keys message so the mapper can list the known fields. */
export const KNOWN_FIELDS = 'known fields: ';

export function obj<S extends z.ZodRawShape>(shape: S, expected: string) {
  const known = KNOWN_FIELDS + Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? known : expected) });
}

export function str(expected: string, re?: RegExp, lengthMax = 10_000) {
  const s = z.string({ error: expected }).max(lengthMax, { error: expected });
  return re ? s.regex(re, { error: expected }) : s;
}

export function int(min: number, max: number, expected = `a whole number from ${min} to ${max}`) {
  return z.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

/** A number (not money: rates, probabilities, volatilities); `max` null = unbounded. */
export function num(min: number, max: number | null, expected: string) {
  const s = z.number({ error: expected }).min(min, { error: expected });
  return max === null ? s : s.max(max, { error: expected });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

export function bool() {
  return z.boolean({ error: 'true or false' });
}

export function list<T extends z.ZodType>(item: T, what: string, max: number, min = 0) {
  const expected = min > 0 ? `an array of ${min} to ${max} ${what}` : `an array of at most ${max} ${what}`;
  return z.array(item, { error: expected }).min(min, { error: expected }).max(max, { error: expected });
}
