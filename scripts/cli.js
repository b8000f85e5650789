#!/usr/bin/env node
/**
 * Runs a compiled command from dist/, building first when dist/ is missing or older than src/.
 * Usage: node scripts/cli.js <path under dist without .js> [args...]
 * Build output goes to stderr, so that `npm run --silent token` prints the token alone.
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const inputs = Math.max(newestMtime(path.join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'].map((f) => fs.statSync(path.join(root, f)).mtimeMs));
  if (built >= inputs) return;
  process.stderr.write('Building (dist/ is missing or older than src/)...\n');
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * The bulk commands (an organization-wide recompute, the worker that runs the nightly jobs, the seed) on a machine of
 * two cores or fewer run V8's garbage collector on the main thread alone (`--single-threaded-gc`): there PostgreSQL
 * keeps the other core busy, and the collector's helper threads (parallel scavenges, concurrent marking) only competed
 * with it. A next-day recompute of a million patients: Node's user CPU 22.6-24.8 s against 29.7-31.8 s, 52.7-58.5 s
 * against 57.7-62.0 s; the seed of a million: Node's user CPU 146-149 s against 186-197 s, 246-247 s against 269-283 s
 * (docs/performance.md, "The eighteenth sitting"). `NODE_GC=single|parallel` decides instead (parallel: V8's
 * default, for a machine whose cores the database does not share). The API (`main`) keeps the default: its requests
 * measured no better either way.
 */
const SINGLE_THREADED_GC = new Set(['cli/recompute', 'cli/worker', 'cli/seed']);

function gcFlags(command) {
  const mode = process.env.NODE_GC ?? 'auto';
  if (!['auto', 'single', 'parallel'].includes(mode)) {
    // As a bad setting of the app (README, "Settings"): one line naming the variable, exit code 1.
    process.stderr.write(`Invalid setting NODE_GC: expected auto, single or parallel (got "${mode}")\n`);
    process.exit(1);
  }
  const single = mode === 'single' || (mode === 'auto' && SINGLE_THREADED_GC.has(command) && require('node:os').availableParallelism() <= 2);
  return single ? ['--single-threaded-gc'] : [];
}

module.exports.gcFlags = gcFlags;

/**
 * The checkout's `.env` (KEY=value lines, as `.env.example`), when there is one, read into the environment before the
 * command starts: a variable already set in the environment keeps its value (process.loadEnvFile never overrides).
 */
function loadDotEnv(dir) {
  const file = path.join(dir, '.env');
  if (!fs.existsSync(file)) return;
  if (typeof process.loadEnvFile !== 'function') process.stderr.write('.env not read: it needs Node 20.12 or later (export its variables instead)\n');
  else process.loadEnvFile(file);
}

module.exports.loadDotEnv = loadDotEnv;

// Required as a module (a test that runs dist/ entry points directly): only the build check.
if (require.main !== module) {
  module.exports.ensureBuilt = ensureBuilt;
  return;
}

const [target, ...args] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: node scripts/cli.js <command> [args...]\n');
  process.exit(2);
}
loadDotEnv(root);
ensureBuilt();
const entry = path.join(root, 'dist', `${target}.js`);
// Commands that stream large inputs get a bounded heap (V8 otherwise lets garbage grow towards its default limit of
// several GB before collecting it): docs/fhir.md, "Memory". NODE_OPTIONS' own limit wins.
const HEAP_MB = { 'cli/fhir-import': 320 };
const heap = HEAP_MB[target] && !/max-old-space-size/.test(process.env.NODE_OPTIONS ?? '') ? [`--max-old-space-size=${HEAP_MB[target]}`] : [];
const child = spawn(process.execPath, [...heap, ...gcFlags(target), entry, ...args], { cwd: root, stdio: 'inherit' });
// Pass signals on, so that SIGTERM to `npm start` shuts the app (and the embedded PostgreSQL) down gracefully.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
