// `node bench/request-log-report.js <file of bench/request-log.js> [requests to skip, default 200] [path part, default /profiles]
// [requests, default all]`:
// the requests' server-side percentiles, how many overlapped a garbage-collection pause, the process's CPU during the
// fast and the slow ones, and each thread's CPU per request. docs/performance.md, "The list's tail, request by request".
const { readFileSync } = require('node:fs');

const [file, skipArg, pathPart = '/profiles', countArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/request-log-report.js <file> [skip] [path part]');
const requests = [];
const pauses = [];
const ticks = [];
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const p = line.split(' ');
  if (p[0] === 'R' && p[3].includes(pathPart)) requests.push({ at: Number(p[1]), ms: Number(p[2]), cpu: Number(p[4]) });
  else if (p[0] === 'G') pauses.push({ at: Number(p[1]), ms: Number(p[2]), kind: p[3] });
  else if (p[0] === 'T')
    ticks.push({ at: Number(p[1]), threads: new Map(p.slice(2).map((x) => [x.split(':')[0], Number(x.split(':')[1])])) });
}
const skip = Number(skipArg ?? 200);
const measured = requests.slice(skip, countArg === undefined ? undefined : skip + Number(countArg));
const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const wall = measured.map((r) => r.ms).sort((a, b) => a - b);
const [p50, p95] = [pct(wall, 50), pct(wall, 95)];
console.log(
  `${measured.length} requests: server p50 ${p50.toFixed(1)}, p90 ${pct(wall, 90).toFixed(1)}, p95 ${p95.toFixed(1)}, p99 ${pct(wall, 99).toFixed(1)} ms`,
);
const gcIn = (r) => pauses.filter((g) => g.at < r.at + r.ms && g.at + g.ms > r.at).reduce((a, g) => a + g.ms, 0);
const withGc = measured.filter((r) => gcIn(r) > 0);
const withoutGc = measured
  .filter((r) => gcIn(r) === 0)
  .map((r) => r.ms)
  .sort((a, b) => a - b);
console.log(`without the requests that overlapped a pause: p50 ${pct(withoutGc, 50).toFixed(1)}, p95 ${pct(withoutGc, 95).toFixed(1)} ms`);
const slow = measured.filter((r) => r.ms >= p95);
const fast = measured.filter((r) => r.ms < p50);
console.log(
  `overlapping a GC pause: ${withGc.length} (${((100 * withGc.length) / measured.length).toFixed(1)} %), ${mean(withGc.map(gcIn)).toFixed(1)} ms of pause each; ` +
    `of the ${slow.length} at or above p95: ${slow.filter((r) => gcIn(r) > 0).length}`,
);
console.log(
  `the process's CPU (every thread) during a request: below p50 ${mean(fast.map((r) => r.cpu)).toFixed(2)} ms (wall ${mean(fast.map((r) => r.ms)).toFixed(1)}), ` +
    `at or above p95 ${mean(slow.map((r) => r.cpu)).toFixed(2)} ms (wall ${mean(slow.map((r) => r.ms)).toFixed(1)})`,
);
for (const kind of [...new Set(pauses.map((g) => g.kind))].sort()) {
  const ms = pauses.filter((g) => g.kind === kind).map((g) => g.ms);
  console.log(`GC kind ${kind}: ${ms.length} pauses, ${mean(ms).toFixed(2)} ms each, longest ${Math.max(...ms).toFixed(1)} ms`);
}
if (ticks.length > 1 && measured.length > 0) {
  const first = ticks.find((t) => t.at >= measured[0].at) ?? ticks[0];
  const last = [...ticks].reverse().find((t) => t.at <= measured[measured.length - 1].at) ?? ticks[ticks.length - 1];
  const n = measured.filter((r) => r.at >= first.at && r.at <= last.at).length;
  const perThread = [...last.threads]
    .map(([tid, t]) => [tid, ((t - (first.threads.get(tid) ?? 0)) * 10) / Math.max(1, n)])
    .filter(([, ms]) => ms > 0);
  console.log(
    `CPU per request by thread (${n} requests in ${((last.at - first.at) / 1000).toFixed(1)} s; the main thread's id is the pid): ${perThread.map(([tid, ms]) => `${tid} ${ms.toFixed(2)} ms`).join(', ')}`,
  );
}
