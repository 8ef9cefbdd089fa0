/**
 * The risk bench's command stream run `runs` times in one mode, with nothing timed: a fixed
 * workload for profilers whose counts do not move with the machine's load. Run it twice
 * with different `runs` and take the difference, so start-up and compilation cancel out:
 *
 *   npx tsc -p tsconfig.json
 *   for n in 2 6; do valgrind --tool=cachegrind --cache-sim=yes --smc-check=all-non-file \
 *     --cachegrind-out-file=/dev/null node --single-threaded dist/bench/risk-flow.js risk $n; done
 *
 * (instructions and L1 misses per run = (I refs, D1 misses at 6) - (at 2), over 4; the same
 * with `matching` gives the baseline). Per function: `valgrind --tool=callgrind --dump-instr=yes`
 * with `node --perf-basic-prof`, and the JIT's symbols from /tmp/perf-<pid>.map.
 *
 *   node dist/bench/risk-flow.js <matching|risk|back-office> [runs=3] [commands=100000]
 */
import { generate, runOnce, type BenchMode } from './risk.bench.js';

const modes: readonly BenchMode[] = ['matching', 'risk', 'back-office'];
const mode = process.argv[2] as BenchMode;
const runs = Number(process.argv[3] ?? 3);
const commands = Number(process.argv[4] ?? 100_000);
if (!modes.includes(mode) || !Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(commands) || commands < 1) {
  process.stderr.write(`usage: node dist/bench/risk-flow.js <${modes.join('|')}> [runs>=1] [commands>=1]\n`);
  process.exit(2);
}
const s = generate(commands);
let events = 0;
for (let i = 0; i < runs; i++) events = runOnce(s, mode).events;
process.stdout.write(`${mode}: ${runs} runs of ${commands} commands, ${events} events each\n`);
