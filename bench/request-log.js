// Preload (-r) for an app process: each HTTP request's server-side time and the process's CPU during it, every
// garbage-collection pause, and each thread's CPU once a second, written to <REQUEST_LOG or /tmp/rt>.<pid> every
// second. Lines: `R <epoch ms> <ms> <path> <process CPU ms>`, `G <epoch ms> <ms> <kind: 1 scavenge, 4 mark-compact,
// 8 incremental marking, 16 weak callbacks>`, `T <epoch ms> <tid>:<CPU ticks> ...` (the main thread's tid is the pid).
// With bench/orgs-bench.ts: BENCH_APP_NODE_ARGS="-r $PWD/bench/request-log.js"; then
// `node bench/request-log-report.js /tmp/rt.<pid> [requests to skip] [path part]`. docs/performance.md, "The list's tail, request by request".
const http = require('node:http');
const { PerformanceObserver, performance } = require('node:perf_hooks');
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');

const file = `${process.env.REQUEST_LOG || '/tmp/rt'}.${process.pid}`;
const rows = [];
const origin = performance.timeOrigin;
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    rows.push(`G ${(origin + e.startTime).toFixed(2)} ${e.duration.toFixed(2)} ${e.detail ? e.detail.kind : e.kind}`);
}).observe({ entryTypes: ['gc'] });

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request') {
    const started = performance.now();
    const cpu = process.cpuUsage();
    res.on('finish', () => {
      const c = process.cpuUsage(cpu);
      rows.push(
        `R ${(origin + started).toFixed(2)} ${(performance.now() - started).toFixed(2)} ${req.url.split('?')[0]} ${((c.user + c.system) / 1000).toFixed(2)}`,
      );
    });
  }
  return emit.apply(this, arguments);
};

function threads() {
  const out = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push(`${tid}:${Number(f[11]) + Number(f[12])}`);
    } catch {
      // the thread ended
    }
  }
  return out.join(' ');
}
setInterval(() => rows.push(`T ${Date.now()} ${threads()}`), 1000).unref();
setInterval(() => writeFileSync(file, rows.join('\n') + '\n'), 1000).unref();
