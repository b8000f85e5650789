/**
 * Sums what bench/pg-trace.js wrote (`node bench/pg-trace-report.js <dir or files...> [--per N]`): per statement
 * (organization ids folded), count, mean and summed ms, and per organization (N: how many runs) the count and ms.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const perIdx = args.indexOf('--per');
const per = perIdx >= 0 ? Number(args.splice(perIdx, 2)[1]) : 0;
const files = args.flatMap((a) => (fs.statSync(a).isDirectory() ? fs.readdirSync(a).filter((f) => f.startsWith('pg-trace-')).map((f) => path.join(a, f)) : [a]));
const all = new Map();
for (const f of files) {
  for (const [k, v] of JSON.parse(fs.readFileSync(f, 'utf8'))) {
    const key = k.replace(/'[0-9a-f]{8}-[0-9a-f-]*'?/g, "'<org>'");
    const s = all.get(key) ?? { n: 0, ms: 0, cpu: 0 };
    s.n += v.n;
    s.ms += v.ms;
    s.cpu += v.cpu ?? 0;
    all.set(key, s);
  }
}
const rows = [...all].sort((a, b) => b[1].ms - a[1].ms);
let n = 0;
let ms = 0;
let cpu = 0;
for (const [, v] of rows) {
  n += v.n;
  ms += v.ms;
  cpu += v.cpu;
}
// The server's CPU per statement when the trace ran with PG_TRACE_CPU=1 (else 0).
const withCpu = cpu > 0;
console.log(
  `${n} statements, ${(ms / 1000).toFixed(1)} s${withCpu ? `, the server's CPU ${(cpu / 1000).toFixed(1)} s` : ''}${
    per ? `; per run: ${(n / per).toFixed(1)} statements, ${(ms / per).toFixed(1)} ms${withCpu ? `, server CPU ${(cpu / per).toFixed(2)} ms` : ''}` : ''
  }`,
);
console.log(`     count   mean ms  total s  per run${withCpu ? '  cpu ms/each' : ''}  statement`);
for (const [k, v] of rows.filter(([, v]) => v.n >= (per || 1) / 2))
  console.log(
    `${String(v.n).padStart(10)} ${(v.ms / v.n).toFixed(2).padStart(9)} ${(v.ms / 1000).toFixed(1).padStart(8)} ${per ? (v.n / per).toFixed(1).padStart(8) : ''}${
      withCpu ? (v.cpu / v.n).toFixed(3).padStart(13) : ''
    }  ${k}`,
  );
