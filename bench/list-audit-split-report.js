// Report of bench/list-audit-split.js beside bench/request-log.js, from the same API process:
// `node bench/list-audit-split-report.js /tmp/lp.<pid> /tmp/rt.<pid> [skip 200] [first pass 800]`. Pairs the i-th
// list request of each file (one client: the same order), skips the warm-up, and prints for the first pass and the
// rest (orgs-bench's `--steady` pass): the server time's p50 and p95, the audit append's, the rest's (server time less
// the append), and in the slowest 5 % of requests the mean server time and the mean append.
const { readFileSync } = require('node:fs');

const [lpFile, rtFile, skipArg, firstArg] = process.argv.slice(2);
if (!lpFile || !rtFile) {
  console.error('usage: node bench/list-audit-split-report.js /tmp/lp.<pid> /tmp/rt.<pid> [skip] [first pass]');
  process.exit(2);
}
const skip = Number(skipArg ?? 200);
const first = Number(firstArg ?? 800);
const lines = (f) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
const splits = lines(lpFile).map((l) => l.split(' ').map(Number));
const requests = lines(rtFile)
  .filter((l) => l.startsWith('R ') && l.includes('/profiles'))
  .map((l) => Number(l.split(' ')[2]));
const n = Math.min(splits.length, requests.length);
if (splits.length !== requests.length)
  console.log(`note: ${splits.length} splits, ${requests.length} list requests; the first ${n} paired`);
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
for (const [name, from, to] of [
  ['first pass', skip, skip + first],
  ['after it', skip + first, n],
]) {
  const server = requests.slice(from, to);
  const audit = splits.slice(from, to).map((s) => s[2]);
  if (server.length === 0) continue;
  const rest = server.map((s, i) => s - audit[i]);
  const slowest = server
    .map((s, i) => i)
    .sort((a, b) => server[a] - server[b])
    .slice(Math.floor(server.length * 0.95));
  console.log(
    `${name} (${server.length} requests): server p50 ${q(server, 0.5).toFixed(1)} p95 ${q(server, 0.95).toFixed(1)} ms; ` +
      `audit append p50 ${q(audit, 0.5).toFixed(2)} p95 ${q(audit, 0.95).toFixed(2)} ms; the rest p50 ${q(rest, 0.5).toFixed(1)} p95 ${q(rest, 0.95).toFixed(1)} ms; ` +
      `slowest 5 %: server ${mean(slowest.map((i) => server[i])).toFixed(1)} ms, of which the append ${mean(slowest.map((i) => audit[i])).toFixed(1)} ms`,
  );
}
