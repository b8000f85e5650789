/**
 * The app's CPU for a clinic's first list request against a warm one, without sockets and without a new process per
 * run: `npm run build`, then `node bench/cold-list-bench.js --orgs 150 --rounds 6` (plain JavaScript on the build in
 * dist/, as the app runs: no ts-node in the heap), with DATABASE_URL the database of many small clinics, REDIS_URL
 * for the counts and the rate limits as deployed, and the PHI keys of its seed (PHI_ENCRYPTION_KEYS,
 * PHI_BLIND_INDEX_KEY or DATA_DIR). The app is built in this process (createApp: every guard, interceptor, the
 * audit, row-level security) and asked through Fastify's `inject`, one request at a time, as orgs-bench's list step
 * asks. Each round first makes every clinic new to the process again: the caller's cached role in it is forgotten,
 * the caches the keyring and the list keep per clinic (keys, decrypted values, pages: every `clear()`-able field of
 * PhiKeyring and PatientListService) are emptied and the clinic's counts invalidated (as a recompute does); then
 * each clinic is asked twice, its first request (cold) and a second (warm). The first rounds (`--warmup`) warm up
 * the JIT, as a new process on 1,000 clinics has after about a hundred; the figures are this process's CPU
 * (process.cpuUsage, user + system, the garbage collector's helper threads included) per request over the later
 * rounds. PostgreSQL's and Redis's CPU are not in them. `node --cpu-prof bench/cold-list-bench.js ...` profiles it.
 */
'use strict';
require('reflect-metadata');
const { randomBytes } = require('node:crypto');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const { setImmediate } = require('node:timers');
const { Client } = require('pg');

const dist = join(__dirname, '..', 'dist');
const { createApp } = require(join(dist, 'app.factory'));
const { signDevToken } = require(join(dist, 'auth/dev-token'));
const { IdentityService } = require(join(dist, 'auth/identity.service'));
const { loadSettings } = require(join(dist, 'config/settings'));
const { PatientCountsService } = require(join(dist, 'patients/patient-counts.service'));
const { PatientListService } = require(join(dist, 'patients/patient-list.service'));
const { PhiKeyring } = require(join(dist, 'records/phi/phi-keyring'));

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '150' },
    rounds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    query: { type: 'string', default: 'limit=20&sort=risk_score&order=desc' },
    // Another route of the clinic instead of the list, e.g. `--route risk-summary --query ''` (a small, cached route).
    route: { type: 'string', default: 'profiles' },
    // Count each request's PostgreSQL statements (pg queries) and Redis commands (ioredis: the rate limits; node-redis:
    // the aggregate cache through keyv), per cold and per warm request, by name; the CPU figures then include the count.
    count: { type: 'boolean', default: false },
    // `cold`: each round asks each clinic once, its first request (every round makes them new again); `warm`: the
    // first round asks each clinic once (not measured), the later ones once more each, nothing forgotten in between.
    // Either alone under `node --cpu-prof`, with the same --orgs and --rounds, gives two profiles whose difference is
    // what a first request costs beyond a warm one. Default: both, each clinic cold then warm in every round.
    ask: { type: 'string', default: 'both' },
    // What each round does not make new again, to tell a first request's parts apart (comma-separated): `membership`
    // (the caller's cached role), `counts` (the clinic's cached counts), `keys` (the unwrapped organization and patient
    // keys), `values` (the decrypted contact values). E.g. `--ask cold --keep keys` against `--ask cold`: the keys' share.
    keep: { type: 'string', default: '' },
  },
});

/** Statement and command counts by name, when --count (wrapping pg's, ioredis's and node-redis's send functions). */
const sent = new Map();
function countSends() {
  const note = (k) => sent.set(k, (sent.get(k) ?? 0) + 1);
  const pg = require('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? config?.constructor?.name ?? '?');
    const folded = String(text)
      .replace(/'(?:[^']|'')*'/g, "'…'")
      .replace(/\s+/g, ' ')
      .trim();
    // The statement's head, and for a message of several statements (the tenant's setting first) what follows it.
    const head = folded.startsWith('SELECT set_config') ? folded.slice(folded.indexOf(';') + 1, folded.indexOf(';') + 60).trim() : folded.slice(0, 60);
    note(`pg ${typeof config === 'object' && config?.name ? `[prepared ${config.name}] ` : ''}${head}`);
    return query.call(this, config, ...rest);
  };
  const Redis = require('ioredis').default ?? require('ioredis');
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function counted(command, ...rest) {
    note(`ioredis ${command.name}`);
    return sendCommand.call(this, command, ...rest);
  };
  const { join: j, dirname } = require('node:path');
  const client = require(j(dirname(require.resolve('@redis/client')), 'lib', 'client', 'index.js')).default;
  const send = client.prototype.sendCommand;
  client.prototype.sendCommand = function counted(args, ...rest) {
    note(`redis ${String(args[0]).toLowerCase()}`);
    return send.call(this, args, ...rest);
  };
}
if (values.count) countSends();
const snapshot = () => new Map(sent);
const delta = (before) => {
  const out = {};
  for (const [k, n] of sent) if (n !== (before.get(k) ?? 0)) out[k] = n - (before.get(k) ?? 0);
  return out;
};
/** Sums of per-request count deltas, by kind of request. */
const perKind = { cold: new Map(), warm: new Map() };
const addCounts = (kind, d) => {
  for (const [k, n] of Object.entries(d)) perKind[kind].set(k, (perKind[kind].get(k) ?? 0) + n);
};

/** Empties every field of `target` that has a `clear()` (its per-clinic caches), but those named in `spare`. */
function clearCaches(target, spare = new Set()) {
  for (const [name, value] of Object.entries(target)) {
    if (spare.has(name)) continue;
    if (value && typeof value === 'object' && typeof value.clear === 'function') value.clear();
  }
}
const keep = new Set(values.keep.split(',').filter((k) => k !== ''));
for (const k of keep) if (!['membership', 'counts', 'keys', 'values'].includes(k)) throw new Error(`--keep: unknown ${k}`);
/** The keyring's fields that --keep spares (PhiKeyringCore: `keys`, `organizations`; the decrypted values: `recent`). */
const spared = new Set([...(keep.has('keys') ? ['keys', 'organizations'] : []), ...(keep.has('values') ? ['recent'] : [])]);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs) => (xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  const [user] = (await admin.query(`INSERT INTO users (email, name) VALUES ('cold-list-' || md5(random()::text) || '@bench.test', 'Bench') RETURNING id`)).rows;
  const orgs = (
    await admin.query(`SELECT o.id FROM organizations o WHERE EXISTS (SELECT 1 FROM patients p WHERE p.organization_id = o.id) ORDER BY o.id LIMIT $1`, [
      Number(values.orgs),
    ])
  ).rows.map((r) => r.id);
  await admin.query(`INSERT INTO memberships (organization_id, user_id, role) SELECT unnest($1::uuid[]), $2, 'owner'`, [orgs, user.id]);

  const secret = randomBytes(32).toString('hex');
  const settings = loadSettings({
    ...process.env,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    JWT_SECRET: secret,
    PROCESS_ROLE: process.env.REDIS_URL ? 'api' : 'all',
    RATE_LIMIT_LIMIT: '1000000',
    RATE_LIMIT_IP_LIMIT: '1000000',
  });
  const app = await createApp({ settings, databaseUrl });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  const headers = { authorization: `Bearer ${signDevToken(secret, { sub: user.id }, { expiresIn: '2h' })}` };
  const identity = app.get(IdentityService);
  const perClinic = [app.get(PhiKeyring), app.get(PatientListService)];
  const counts = app.get(PatientCountsService);

  /** Each request's wall time (inject to answer), beside its CPU: the round trips show here, not in the CPU. */
  const wall = { cold: [], warm: [] };
  let lastWall = 0;
  const ask = async (org) => {
    const started = process.hrtime.bigint();
    const before = process.cpuUsage();
    const res = await fastify.inject({ method: 'GET', url: `/api/v1/patients/${org}/${values.route}${values.query ? `?${values.query}` : ''}`, headers });
    const used = process.cpuUsage(before);
    lastWall = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.statusCode !== 200) throw new Error(`list of ${org}: ${res.statusCode} ${res.body}`);
    return (used.user + used.system) / 1000;
  };
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const cold = [];
  const warm = [];
  const perRound = [];
  let counted = 0;
  async function measuredRound(round, measured) {
    for (const org of orgs) {
      if (values.ask === 'warm') {
        round.warm.push(await ask(org));
        if (measured) wall.warm.push(lastWall);
        if (measured) counted++;
        continue;
      }
      let before = snapshot();
      round.cold.push(await ask(org));
      if (measured) wall.cold.push(lastWall);
      if (measured && values.count) addCounts('cold', delta(before));
      if (values.ask === 'cold') {
        if (measured) counted++;
        continue;
      }
      before = snapshot();
      round.warm.push(await ask(org));
      if (measured) wall.warm.push(lastWall);
      // The warm request's window also holds what the cold one left running (a write not awaited): let it land first.
      await new Promise((r) => setImmediate(r));
      if (measured && values.count) addCounts('warm', delta(before));
      if (measured) counted++;
    }
  }
  try {
    for (let r = 0; r < rounds; r++) {
      // `--ask warm`: the clinics are made new once, before the first round (which warms them), never again.
      if (values.ask !== 'warm' || r === 0) {
        // Round 0 always starts from nothing (--keep spares what the rounds after it would forget).
        for (const target of perClinic) clearCaches(target, r === 0 ? new Set() : spared);
        for (const org of orgs) {
          if (r === 0 || !keep.has('membership')) identity.forgetMembership(user.id, org);
          if (r === 0 || !keep.has('counts')) await counts.invalidate(org);
        }
      }
      const round = { cold: [], warm: [] };
      await measuredRound(round, r >= warmup);
      perRound.push(`${mean(round.cold).toFixed(2)}/${mean(round.warm).toFixed(2)}`);
      if (r >= warmup) {
        cold.push(...round.cold);
        warm.push(...round.warm);
      }
    }
  } finally {
    await app.close();
    await admin.query(`DELETE FROM users WHERE id = $1`, [user.id]);
    await admin.end();
  }
  process.stdout.write(
    `${JSON.stringify({
      orgs: orgs.length,
      rounds,
      warmup,
      cold_cpu_ms: { mean: +mean(cold).toFixed(3), median: +median(cold).toFixed(3) },
      warm_cpu_ms: { mean: +mean(warm).toFixed(3), median: +median(warm).toFixed(3) },
      cold_plus_warm_cpu_ms: { mean: +(mean(cold) + mean(warm)).toFixed(3) },
      wall_ms: Object.fromEntries(
        ['cold', 'warm'].map((kind) => {
          const xs = [...wall[kind]].sort((a, b) => a - b);
          return [kind, { p50: +median(xs).toFixed(2), p95: +(xs[Math.floor(xs.length * 0.95)] ?? 0).toFixed(2) }];
        }),
      ),
      ...(values.count
        ? Object.fromEntries(
            ['cold', 'warm'].map((kind) => [
              `${kind}_sends_per_request`,
              Object.fromEntries([...perKind[kind]].sort().map(([k, n]) => [k, +(n / Math.max(1, counted)).toFixed(2)])),
            ]),
          )
        : {}),
      per_round_cold_warm_mean_ms: perRound,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
