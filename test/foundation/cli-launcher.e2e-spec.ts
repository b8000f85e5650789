import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The launcher every npm script runs commands through (scripts/cli.js): its `.env` and its V8 flags.
const CLI = join(__dirname, '..', '..', 'scripts', 'cli.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cli = require('../../scripts/cli.js') as { loadDotEnv: (dir: string) => void; gcFlags: (command: string) => string[] };

describe('scripts/cli.js', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it("reads the checkout's .env into the environment, a variable already set keeping its value", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-env-'));
    try {
      writeFileSync(join(dir, '.env'), '# a comment\nCLI_ENV_TEST_NEW=from-file\nCLI_ENV_TEST_SET=from-file\n');
      // In a process of its own: Jest's process.env is a copy that process.loadEnvFile does not write to.
      const run = spawnSync(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(CLI)}).loadDotEnv(${JSON.stringify(dir)}); console.log(JSON.stringify([process.env.CLI_ENV_TEST_NEW, process.env.CLI_ENV_TEST_SET]))`,
        ],
        { env: { PATH: process.env.PATH, CLI_ENV_TEST_SET: 'from-environment' }, encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(['from-file', 'from-environment']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads nothing without a .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-env-'));
    try {
      const before = { ...process.env };
      cli.loadDotEnv(dir);
      expect(process.env).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the bulk commands with the collector on the main thread when NODE_GC says so, the API never by default', () => {
    process.env.NODE_GC = 'single';
    expect(cli.gcFlags('cli/recompute')).toEqual(['--single-threaded-gc']);
    process.env.NODE_GC = 'parallel';
    expect(cli.gcFlags('cli/recompute')).toEqual([]);
    expect(cli.gcFlags('cli/worker')).toEqual([]);
    delete process.env.NODE_GC;
    expect(cli.gcFlags('main')).toEqual([]);
    expect(cli.gcFlags('cli/token')).toEqual([]);
  });
});
