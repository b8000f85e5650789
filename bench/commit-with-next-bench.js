/**
 * What the read's COMMIT sent alone costs against sent in the write's BEGIN message (BatchTenantSql.transaction's
 * `commitWithNext`): on one connection, a read transaction (BEGIN with its settings, a one-row read, COMMIT) then a
 * write transaction (BEGIN, a one-row read, COMMIT), the two ways alternated in blocks; per pair, this process's CPU
 * and the backend's (/proc/<pid>/schedstat: the server on this machine).
 * `node bench/commit-with-next-bench.js postgres://postgres@127.0.0.1:5432/<db> [pairs per block, 500] [blocks, 6]`
 */
'use strict';
const { readFileSync } = require('node:fs');
const { Client } = require('pg');
const [url, perBlock = '500', blocks = '6'] = process.argv.slice(2);
const schedNs = (pid) => Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);
async function main() {
  const c = new Client({ connectionString: url });
  await c.connect();
  const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const read = { text: 'SELECT $1::int AS x', values: [1], name: 'cwn-read' };
  const ways = {
    'COMMIT alone': async () => {
      await c.query('BEGIN; SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0');
      await c.query(read);
      await c.query('COMMIT');
      await c.query('BEGIN');
      await c.query(read);
      await c.query('COMMIT');
    },
    'COMMIT with the next BEGIN': async () => {
      await c.query('BEGIN; SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0');
      await c.query(read);
      await c.query('COMMIT; BEGIN');
      await c.query(read);
      await c.query('COMMIT');
    },
  };
  const names = Object.keys(ways);
  const totals = new Map(names.map((n) => [n, []]));
  for (const name of names) for (let i = 0; i < 200; i++) await ways[name](); // warm
  for (let b = 0; b < Number(blocks); b++) {
    const order = b % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const cpu = process.cpuUsage();
      const s0 = schedNs(pid);
      for (let i = 0; i < Number(perBlock); i++) await ways[name]();
      const used = process.cpuUsage(cpu);
      totals.get(name).push({ node: (used.user + used.system) / 1000 / Number(perBlock), server: (schedNs(pid) - s0) / 1e6 / Number(perBlock) });
    }
  }
  for (const [name, rows] of totals) {
    process.stdout.write(`${name}: per pair, this process ${rows.map((r) => r.node.toFixed(3)).join(' ')} ms; the backend ${rows.map((r) => r.server.toFixed(3)).join(' ')} ms\n`);
  }
  await c.end();
}
void main();
