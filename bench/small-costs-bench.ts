/**
 * Two small costs, CPU only: `TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/small-costs-bench.ts`.
 * 1. Quoting an SQL literal of 745 characters (one audit event's patient ids as an array literal): pg's `escapeLiteral`
 *    (a string per character) against `quoteLiteral` (src/database/tenant/sql-literal.ts), the same output.
 * 2. A new 32-byte patient data key: `randomBytes(32)` against `newDataKey()` (a pool refilled once per 1,024 keys).
 * Prints µs per call, each measured twice (the second after the first has warmed it up).
 * docs/performance.md, "The list's tail, request by request" and "The seed's generator, profiled".
 */
import { randomBytes } from 'node:crypto';
import { escapeLiteral } from 'pg';
import { quoteLiteral } from 'src/database/tenant/sql-literal';
import { newDataKey } from 'src/records/phi/phi-data-key';

function perCall(label: string, calls: number, f: (i: number) => number): void {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += f(i);
  const us = Number(process.hrtime.bigint() - started) / calls / 1000;
  process.stdout.write(`${label}: ${us.toFixed(2)} µs per call${sink > 0 ? '' : ' '}\n`);
}

const ids = Array.from({ length: 20 }, (_, i) => `3f2b8c1e-9a4d-4e7b-8c2f-${String(i).padStart(12, '0')}`);
const literal = `{"{${ids.join(',')}}"}`;
for (let round = 1; round <= 2; round++) {
  perCall(`round ${round}, pg escapeLiteral, ${literal.length} characters`, 200_000, (i) => escapeLiteral(literal + (i & 7)).length);
  perCall(`round ${round}, quoteLiteral, ${literal.length} characters`, 200_000, (i) => quoteLiteral(literal + (i & 7)).length);
  perCall(`round ${round}, randomBytes(32)`, 100_000, () => randomBytes(32)[0] + 1);
  perCall(`round ${round}, newDataKey()`, 100_000, () => newDataKey()[0] + 1);
}
