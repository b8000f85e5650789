// Preload (-r) for an app process: V8's sampling heap profiler, started HEAP_SAMPLE_DELAY_MS (default 15,000) after the
// start, its profile written to /tmp/heap.<pid>.heapprofile every 5 s. HEAP_SAMPLE=all (default) keeps the samples
// of every allocation, collected or not (what a request allocates); HEAP_SAMPLE=promoted keeps those that outlived a
// young-generation collection (collected later by a full one, or still alive). With bench/orgs-bench.ts (which passes
// HEAP_SAMPLE and HEAP_SAMPLE_DELAY_MS through): BENCH_APP_NODE_ARGS="-r $PWD/bench/heap-sample.js", then
// `node bench/heap-sample-report.js /tmp/heap.<pid>.heapprofile`. docs/performance.md, "The list's tail, request by request".
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { setTimeout } = require('node:timers');

const promotedOnly = process.env.HEAP_SAMPLE === 'promoted';
const session = new inspector.Session();
session.connect();
setTimeout(
  () => {
    session.post('HeapProfiler.enable', () => {
      const options = { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !promotedOnly };
      session.post('HeapProfiler.startSampling', options, (err) => {
        if (err) return void process.stderr.write(`heap-sample: ${err.message}\n`);
        setInterval(() => {
          session.post('HeapProfiler.getSamplingProfile', (e, r) => {
            if (!e) writeFileSync(`/tmp/heap.${process.pid}.heapprofile`, JSON.stringify(r.profile));
          });
        }, 5000).unref();
      });
    });
  },
  Number(process.env.HEAP_SAMPLE_DELAY_MS || 15000),
).unref();
