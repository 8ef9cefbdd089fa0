/**
 * `npm run bench`: every benchmark of the project in one process, one after the
 * other, each printing its own figures and the ratios measured in the same run
 * (this machine is shared and noisy: absolute times move, ratios hold better).
 *
 *   npm run bench                 all sections
 *   npm run bench -- book lobster only the named sections
 */
import { formatAllocBench, runAllocBench } from './alloc.bench.js';
import { formatBacktestBench, runBacktestBench } from './backtest.bench.js';
import { formatBookBench, runBookBench } from './book.bench.js';
import { printE2EBench, runE2EBench } from './e2e.bench.js';
import { formatLobsterBench, runLobsterBench } from './lobster.bench.js';
import { formatRiskBench, LARGE_MONEY, runRiskBench } from './risk.bench.js';

type Section = { name: string; what: string; run: () => Promise<string> };

const sections: Section[] = [
  { name: 'book', what: 'matching alone vs nodejs-order-book on the same 50/45/5 flow', run: async () => formatBookBench(await runBookBench()) },
  { name: 'risk', what: 'matching with pre-trade risk and the back office vs matching alone', run: async () => formatRiskBench(await runRiskBench()) },
  {
    name: 'alloc',
    what: "bytes allocated per command once warm: matching, with risk, with the back office; risk and the back office again with an institution's amounts",
    run: async () => formatAllocBench([...(await runAllocBench()), ...(await runAllocBench(undefined, ['risk', 'back-office'], LARGE_MONEY))]),
  },
  { name: 'lobster', what: 'LOBSTER AAPL hour: parse only vs parse + replay', run: async () => formatLobsterBench(runLobsterBench()) },
  {
    name: 'e2e',
    what: 'exsim run of the 1,000,000-order day: audit on/off, feed in a worker/inline',
    run: async () => {
      printE2EBench(await runE2EBench('scenarios/synthetic-1m.json', 1));
      return '';
    },
  },
  { name: 'backtest', what: 'a market maker on the 1,000,000-order day vs the same run without a strategy', run: async () => formatBacktestBench(await runBacktestBench(1)) },
];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !sections.some((s) => s.name === w));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench section(s): ${unknown.join(', ')}; known: ${sections.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(`exsim benchmarks, node ${process.version}\n\n`);
for (const s of sections) {
  if (wanted.length > 0 && !wanted.includes(s.name)) continue;
  process.stdout.write(`== ${s.name}: ${s.what}\n`);
  const text = await s.run();
  process.stdout.write(text.length > 0 ? `${text}\n\n` : '\n');
}
