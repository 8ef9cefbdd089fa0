/**
 * Errors caused by the user's input (files, arguments), as opposed to bugs.
 * The CLI prints their message alone, without a stack trace, and exits with `exitCode`.
 * The message always names where the problem is (file, line or JSON path) and what was expected.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** A problem at a place in an input file: `file:line` or `file: json.path`. */
export function inputError(file: string, where: string | number | null, what: string): UserError {
  const loc = where === null ? file : typeof where === 'number' ? `${file}:${where}` : `${file}: ${where}`;
  return new UserError(`${loc}: ${what}`);
}
