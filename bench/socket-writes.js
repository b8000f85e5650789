// Preload (-r) for the read benchmark's app or floor: counts the process's socket writes by peer (PostgreSQL on port
// 5432, Redis on 6379, the rest HTTP) and the HTTP requests it served, and writes them per request to
// /tmp/socket-writes.<pid>.json when the process ends. docs/performance.md, "The twenty-second sitting".
//   BENCH_APP_NODE_ARGS="-r $PWD/bench/socket-writes.js" BENCH_FLOOR_NODE_ARGS="-r $PWD/bench/socket-writes.js" npm run bench:read -- ...
const net = require('node:net');
const http = require('node:http');
const { writeFileSync } = require('node:fs');

const counts = { pg: 0, redis: 0, http: 0, pgBytes: 0, requests: 0 };
const peer = (socket) => (socket.remotePort === 5432 ? 'pg' : socket.remotePort === 6379 ? 'redis' : 'http');
const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function countedWrite(writev, data, encoding, cb) {
  const kind = peer(this);
  counts[kind]++;
  if (kind === 'pg' && !writev && data) counts.pgBytes += data.length;
  return writeGeneric.call(this, writev, data, encoding, cb);
};
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function countedEmit(event) {
  if (event === 'request') counts.requests++;
  return emit.apply(this, arguments);
};
const report = () => {
  const per = (n) => (counts.requests > 0 ? Number((n / counts.requests).toFixed(3)) : null);
  const perRequest = { pg: per(counts.pg), pgBytes: per(counts.pgBytes), redis: per(counts.redis), http: per(counts.http) };
  writeFileSync(`/tmp/socket-writes.${process.pid}.json`, `${JSON.stringify({ ...counts, perRequest })}\n`);
};
process.on('exit', report);
for (const signal of ['SIGTERM', 'SIGINT']) process.prependListener(signal, report);
