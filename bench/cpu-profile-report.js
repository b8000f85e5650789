// The self time of a CPU profile (`--cpu-prof`, e.g. from bench:read's BENCH_APP_NODE_ARGS / BENCH_FLOOR_NODE_ARGS)
// per request, by category (framework, audit, pg, garbage collection, ...), and optionally beside another profile:
//   node bench/cpu-profile-report.js <app.cpuprofile> <requests> [<floor.cpuprofile> <requests>] [--skip <seconds>]
// <requests>: how many requests the process served (bench/socket-writes.js counts them). --skip: leave out the first
// seconds (start-up: module loading). V8 samples by wall-clock time, so a sample taken while the thread waited for a
// core inside a system call counts there: on a busy 2-core host the socket writes' share (the thread preempted
// right after waking PostgreSQL) is mostly waiting, not CPU; compare the rest with the CPU per request that
// bench:read prints. docs/performance.md, "The twenty-second sitting".
const { readFileSync } = require('node:fs');

// Piped into `head`: stop quietly when the reader goes.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const args = process.argv.slice(2);
const skipAt = args.indexOf('--skip');
const skipSeconds = skipAt >= 0 ? Number(args.splice(skipAt, 2)[1]) : 0;
const [appFile, appRequests, floorFile, floorRequests] = args;
if (!appFile || !(Number(appRequests) > 0)) {
  process.stderr.write(
    'usage: node bench/cpu-profile-report.js <app.cpuprofile> <requests> [<floor.cpuprofile> <requests>] [--skip <seconds>]\n',
  );
  process.exit(2);
}

function category({ url, functionName: f }) {
  if (f === '(idle)') return null;
  if (f === '(garbage collector)') return 'garbage collection';
  if (['writeBuffer', 'writev', 'writeUtf8String', 'writeLatin1String'].includes(f)) return 'socket writes (mostly waiting: see above)';
  if (/\/src\/audit\//.test(url)) return 'app: audit';
  if (/\/src\/auth\//.test(url)) return 'app: guards and rate limits';
  if (/\/src\/database\//.test(url)) return 'app: database handles and SQL literals';
  if (/\/src\//.test(url)) return 'app: services, mappers, common';
  if (/\/bench\//.test(url)) return "the benchmark's server code (the floor's handler; the app's is its bootstrap)";
  if (/node_modules\/@nestjs\//.test(url)) return 'Nest';
  if (/node_modules\/rxjs\//.test(url)) return 'rxjs (Nest interceptors)';
  if (/node_modules\/(fastify|@fastify|find-my-way|avvio|fast-json-stringify|ajv|fast-uri|light-my-request)\//.test(url))
    return 'Fastify, Ajv, fast-json-stringify';
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-date|postgres-array)\//.test(url)) return 'pg (protocol, rows)';
  if (/node_modules\//.test(url)) return `other package: ${url.replace(/.*node_modules\//, '').split('/')[0]}`;
  if (/crypto/.test(url)) return 'node: crypto';
  if (
    /^node:internal\/modules|cjs-module-lexer/.test(url) ||
    ['wrapSafe', 'compileFunction', 'readFileUtf8', 'internalModuleStat', 'lstat'].includes(f)
  )
    return 'module loading';
  if (/http/.test(url)) return 'node: http';
  if (f === 'runMicrotasks' || /task_queues|timers/.test(url)) return 'node: promises, ticks, timers';
  return 'node: other (streams, buffers, events, ...)';
}

function perRequest(file, requests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byCategory = new Map();
  let elapsed = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] || 0;
    elapsed += delta;
    if (elapsed < skipSeconds * 1e6) continue;
    const c = category(nodes.get(profile.samples[i]).callFrame);
    if (c !== null) byCategory.set(c, (byCategory.get(c) || 0) + delta / Number(requests));
  }
  return byCategory;
}

const app = perRequest(appFile, appRequests);
const floor = floorFile ? perRequest(floorFile, floorRequests) : new Map();
const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const rows = [...new Set([...app.keys(), ...floor.keys()])].map((c) => [c, app.get(c) || 0, floor.get(c) || 0]);
rows.sort((a, b) => b[1] - b[2] - (a[1] - a[2]));
const fmt = (v) => v.toFixed(1).padStart(8);
process.stdout.write(`self time, µs per request${floorFile ? ' (app, floor, app - floor)' : ''}\n`);
process.stdout.write(`${fmt(total(app))}${floorFile ? `${fmt(total(floor))}${fmt(total(app) - total(floor))}` : ''}  total\n`);
const small = [0, 0];
for (const [c, a, f] of rows) {
  if (Math.max(a, f) < 1) {
    small[0] += a;
    small[1] += f;
  } else process.stdout.write(`${fmt(a)}${floorFile ? `${fmt(f)}${fmt(a - f)}` : ''}  ${c}\n`);
}
process.stdout.write(`${fmt(small[0])}${floorFile ? `${fmt(small[1])}${fmt(small[0] - small[1])}` : ''}  the rest (under 1 µs each)\n`);
