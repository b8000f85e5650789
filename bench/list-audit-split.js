// Preload (-r) for an API process measured at ONE client (requests one after another): per patient-list request, the
// time from its page's rows to the handler's return (the decryption and mapping), from there to the audit's start,
// and the audit event's append (its wall time: the batch statement and its commit), written to
// <LIST_AUDIT_LOG or /tmp/lp>.<pid> as `<ms> <ms> <ms>` lines, every second. Beside bench/request-log.js (the
// requests' server time, same order) it splits each list request's time into the audit's append and the rest:
// BENCH_APP_NODE_ARGS="-r $PWD/bench/list-audit-split.js -r $PWD/bench/request-log.js" ... bench/orgs-bench.ts --steps list
// (docs/performance.md, "The twelfth sitting"). It wraps the compiled classes' methods as they load; with more than one
// client the requests' marks would interleave. Since the list records its event early (recordsEarly: the append starts
// once the page's rows are read, docs/audit.md), the third column is what the request still waits for its event after
// the answer is built, not the append's whole time.
const Module = require('node:module');
const { performance } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const timers = require('node:timers');

const file = `${process.env.LIST_AUDIT_LOG || '/tmp/lp'}.${process.pid}`;
const rows = [];
let rowsAt = 0;
let returnedAt = 0;

function wrapListService(m) {
  const proto = m.PatientListService.prototype;
  const readPage = proto.readPage;
  proto.readPage = function (...args) {
    const p = readPage.apply(this, args);
    p.then(
      () => (rowsAt = performance.now()),
      () => undefined,
    );
    return p;
  };
  const list = proto.list;
  proto.list = async function (...args) {
    const r = await list.apply(this, args);
    returnedAt = performance.now();
    return r;
  };
}

function wrapRecorder(m) {
  const proto = m.RequestAuditRecorder.prototype;
  const recordSuccess = proto.recordSuccess;
  proto.recordSuccess = async function (...args) {
    const started = performance.now();
    try {
      return await recordSuccess.apply(this, args);
    } finally {
      // One line per audited request, so that the lines pair with request-log's (-1: no page read, e.g. a cached page).
      const ready = rowsAt > 0 && returnedAt > 0;
      rows.push(
        `${ready ? (returnedAt - rowsAt).toFixed(3) : -1} ${ready ? (started - returnedAt).toFixed(3) : -1} ${(performance.now() - started).toFixed(3)}`,
      );
      rowsAt = returnedAt = 0;
    }
  };
}

const load = Module._load;
const wrapped = new Set();
Module._load = function (request, parent, isMain) {
  const m = load.apply(this, arguments);
  let path;
  try {
    path = Module._resolveFilename(request, parent, isMain);
  } catch {
    return m;
  }
  if (!wrapped.has(path)) {
    if (path.endsWith('/patients/patient-list.service.js')) {
      wrapped.add(path);
      wrapListService(m);
    } else if (path.endsWith('/audit/recording/request-audit-recorder.js')) {
      wrapped.add(path);
      wrapRecorder(m);
    }
  }
  return m;
};

timers
  .setInterval(() => {
    if (rows.length > 0) appendFileSync(file, `${rows.splice(0).join('\n')}\n`);
  }, 1000)
  .unref();
