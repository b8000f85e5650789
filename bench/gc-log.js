// Preload (-r) for an app process: records every garbage-collection pause (PerformanceObserver 'gc') and rewrites
// <GC_LOG or /tmp/gc>.<pid> every second, one line per pause: start (ms, performance.now), duration (ms), kind (1 a
// scavenge, 4 a mark-compact, 8 incremental marking, 16 weak callbacks). With bench/orgs-bench.ts:
// BENCH_APP_NODE_ARGS="-r $PWD/bench/gc-log.js" (its apps get /tmp/gc.<pid>: the bench passes no GC_LOG).
// docs/performance.md, "The list's garbage collector".
const { PerformanceObserver } = require('node:perf_hooks');
const { writeFileSync } = require('node:fs');
const file = (process.env.GC_LOG || '/tmp/gc') + '.' + process.pid;
const rows = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) rows.push(`${e.startTime.toFixed(1)} ${e.duration.toFixed(2)} ${e.detail ? e.detail.kind : e.kind}`);
}).observe({ entryTypes: ['gc'] });
setInterval(() => writeFileSync(file, rows.join('\n') + '\n'), 1000).unref();
