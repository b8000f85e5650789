// Preload (-r) for the read benchmark's app, for measurement only: the audit trail's appends answer at once, nothing
// is written. Run beside a normal run, it gives what the audit costs the request path (the app's CPU per request,
// its throughput, its p95 at one client); docs/performance.md, "The twenty-second sitting". Never for a server that
// holds real data: it is how a request would look if it were not recorded.
//   BENCH_APP_NODE_ARGS="-r $PWD/bench/without-audit.js" PATIENT_PAGE_CACHE_ENTRIES=0 PHI_DECRYPT_CACHE_ENTRIES=0 \
//     npm run bench:read -- --org bench --only "profile (|journey"
const Module = require('node:module');

// bench:read runs its app in development; a production process refuses to start with this file loaded.
if (process.env.NODE_ENV === 'production') throw new Error('bench/without-audit.js disables the audit trail: never in production');

const load = Module._load;
let seq = 0;
Module._load = function loadWithoutAudit(request) {
  const exports = load.apply(this, arguments);
  if (/trail-writer(\.js)?$/.test(request) && exports && exports.TrailWriter && !exports.TrailWriter.withoutAudit) {
    exports.TrailWriter.withoutAudit = true;
    exports.TrailWriter.prototype.append = function append(_event, _db, release) {
      if (release) release();
      return Promise.resolve(++seq);
    };
    process.stderr.write('bench/without-audit.js: audit appends disabled in this process\n');
  }
  return exports;
};
