import { rmSync } from 'node:fs';

/**
 * Ctrl-C or SIGTERM in the middle of a run: remove the run's partial files (a
 * 1,000,000-order day leaves ~300 MB) and exit with the shell's code for the
 * signal (128 + signal number). Returns a function that removes the handlers.
 */
export function cleanUpOnSignal(paths: () => readonly string[]): () => void {
  const handle = (sig: 'SIGINT' | 'SIGTERM') => {
    const removed: string[] = [];
    for (const p of paths()) {
      try {
        rmSync(p, { recursive: true, force: true });
        removed.push(p);
      } catch {
        // Best effort: the process is exiting either way.
      }
    }
    process.stderr.write(`\ninterrupted (${sig})${removed.length > 0 ? `: removed ${removed.join(', ')}` : ''}\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
