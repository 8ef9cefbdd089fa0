/**
 * cli-table3 colours its borders and headers even when stdout is a pipe or a
 * file; escape codes there only get in the way of grep and diff.
 */
export function tableStyle(): { head: string[]; border: string[] } {
  return process.stdout.isTTY === true ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
}
