import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startApp } from 'test/browser/app-process';

/**
 * `npm run sdk:example` (run by .ci/run): the SDK as a front end gets it. Packs sdk/ (`npm pack`, which builds it),
 * installs the tarball and TypeScript into a new project under the system's temporary folder, compiles
 * sdk/examples/*.ts there under `strict`, then runs the example against `npm start`'s app (embedded PostgreSQL, the
 * 2,000-patient demo clinic) on free ports. Prints how long each step took.
 */
const ROOT = resolve(__dirname, '../..');
const SDK = join(ROOT, 'sdk');
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

function run(command: string, args: string[], options: SpawnSyncOptions): void {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

async function step<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  const value = await work();
  process.stdout.write(`== sdk example: ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return value;
}

async function main(): Promise<void> {
  const project = join(tmpdir(), `pj-sdk-example-${process.pid}-${Date.now()}`);
  mkdirSync(project, { mode: 0o755 });
  chmodSync(project, 0o755);
  let passed = false;
  try {
    const tarball = await step('npm pack (builds ESM and CommonJS)', () => {
      const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: SDK, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (packed.status !== 0) throw new Error('npm pack failed');
      return join(project, packed.stdout.trim().split('\n').pop()!.trim());
    });

    await step('install the tarball and TypeScript into a new project', () => {
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-example', private: true, type: 'module' }, null, 2));
      const deps = [tarball, `typescript@${rootPackage.devDependencies.typescript}`, `@types/node@${rootPackage.devDependencies['@types/node']}`];
      run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...deps], { cwd: project });
    });

    await step('compile sdk/examples under strict', () => {
      mkdirSync(join(project, 'src'));
      for (const file of readdirSync(join(SDK, 'examples')).filter((f) => f.endsWith('.ts'))) copyFileSync(join(SDK, 'examples', file), join(project, 'src', file));
      const tsconfig = {
        compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true, types: ['node'], outDir: 'dist', rootDir: 'src' },
        include: ['src'],
      };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
      // The CommonJS build answers require() too.
      run(process.execPath, ['-e', "const s = require('@patient-journey/sdk'); if (typeof s.createPatientJourneyClient !== 'function') process.exit(1)"], { cwd: project });
    });

    const app = await step('start the app on the embedded database with the demo clinic', () => startApp(join(project, 'app.log'), 240000));
    try {
      const env = { ...process.env, PJ_BASE_URL: app.baseUrl, PJ_TOKEN: app.token('demo', 'admin'), PJ_NO_PATIENTS_TOKEN: app.token('demo', 'analyst') };
      await step('run the example against it', () => {
        for (const file of readdirSync(join(project, 'dist')).filter((f) => f.endsWith('.js'))) run(process.execPath, [join(project, 'dist', file)], { cwd: project, env });
      });
    } finally {
      await app.stop();
    }
    passed = true;
  } finally {
    if (passed) rmSync(project, { recursive: true, force: true });
    else process.stderr.write(`The SDK example failed: its project (and the app's log) stay in ${project}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
