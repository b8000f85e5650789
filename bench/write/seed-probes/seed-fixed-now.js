// node bench/write/seed-probes/seed-fixed-now.js <worktree> <db> <patients>: seedOrganization (the CLI's call) with a fixed `now`, after the migrations.
const [wt, db, patients] = process.argv.slice(2);
process.chdir(wt);
require(`${wt}/node_modules/reflect-metadata`);
const url = `${process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432'}/${db}`;
require('node:child_process').execFileSync('createdb', ['-h', '127.0.0.1', '-U', 'postgres', db]);
require('node:child_process').execFileSync('node', ['dist/cli/migration-run.js'], { cwd: wt, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
process.env.DATABASE_URL = url;
const { seedOrganization } = require(`${wt}/dist/demo-data/seed.js`);
const { loadSettings } = require(`${wt}/dist/config/settings.js`);
const { createPhiCipher } = require(`${wt}/dist/records/phi/phi-cipher.js`);
seedOrganization(url, { slug: 'bench', name: 'Bench', kind: 'physiotherapy', patients: Number(patients), seed: 42, now: new Date('2026-12-06T06:00:00Z'), cipher: createPhiCipher(loadSettings()) })
  .then((r) => console.log(db, r.seconds, JSON.stringify(r.rows)));
