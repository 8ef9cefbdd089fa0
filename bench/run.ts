/**
 * `npm run bench`: every benchmark of the project in one process, one after the
 * other, each printing its own figures and the ratios measured in the same run
 * (this machine is shared and noisy: absolute times move, ratios hold better).
 *
 *   npm run bench                 all sections
 *   npm run bench -- book lobster only the named sections
 */
import { formatBookBench, runBookBench } from './book.bench.js';
import { formatLobsterBench, runLobsterBench } from './lobster.bench.js';

type Section = { name: string; run: () => Promise<string> };

const sections: Section[] = [
  { name: 'book', run: async () => formatBookBench(await runBookBench()) },
  { name: 'lobster', run: async () => formatLobsterBench(runLobsterBench()) },
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
  process.stdout.write(`== ${s.name}\n${await s.run()}\n\n`);
}
