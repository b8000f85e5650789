// node bench/round-trip-probe.js <database> [rounds]: what one round trip to PostgreSQL costs the client and its backend,
// over TCP to 127.0.0.1 and over the Unix socket (/var/run/postgresql, PGSOCKET to change), alternated: 10,000 round
// trips of `SELECT $1::int`, then 2,000 of a 150 kB text parameter (the size of a small clinic's scores' json), each
// on a fresh connection; the client's CPU from process.cpuUsage, the backend's from /proc/<pid>/stat (same machine).
// PGUSER / PGPORT as usual (default postgres, 5432). docs/scaling.md, "The worker's connections at concurrency 3".
const { readFileSync } = require('node:fs');
const { Client } = require('pg');

const database = process.argv[2];
const rounds = Number(process.argv[3] ?? 2);
if (!database) throw new Error('usage: node bench/round-trip-probe.js <database> [rounds]');
const transports = [
  ['tcp', '127.0.0.1'],
  ['unix', process.env.PGSOCKET ?? '/var/run/postgresql'],
];
const big = 'x'.repeat(150_000);
const ticks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (10 ms)
};

async function measure(label, host, what, n, value) {
  const c = new Client({ host, port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database });
  await c.connect();
  try {
    const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const backend0 = ticks(pid);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await c.query({ text: what, values: [value ?? i] });
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
    const cpu = process.cpuUsage(cpu0);
    const backendUs = ((ticks(pid) - backend0) * 10_000) / n;
    console.log(
      `${label.padEnd(5)} ${value ? '150 kB parameter' : 'SELECT $1::int  '}: wall ${wallUs.toFixed(0)} µs, client CPU ${((cpu.user + cpu.system) / n).toFixed(0)} µs ` +
        `(system ${(cpu.system / n).toFixed(0)}), backend CPU ${backendUs.toFixed(0)} µs a round trip`,
    );
  } finally {
    await c.end();
  }
}

(async () => {
  for (let r = 0; r < rounds; r++) for (const [label, host] of transports) await measure(label, host, 'SELECT $1::int AS x', 10_000);
  for (let r = 0; r < rounds; r++)
    for (const [label, host] of transports) await measure(label, host, 'SELECT length($1::text) AS x', 2_000, big);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
