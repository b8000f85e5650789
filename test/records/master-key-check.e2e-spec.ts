import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { organizationKeyAad } from 'src/records/phi/phi-data-key';
import { createOrganization } from 'test/auth/auth-fixtures';
import { ensureBuilt, killAppProcess, startAppProcess, type AppProcess } from 'test/utils/app-process';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * Issue #17: an app started with another master key than the one that wrapped the organization keys refuses to start
 * (before, it answered 500 to every PHI read or write), naming the setting or the file of the key, never the key.
 * The real entry points as processes: `node dist/main.js` and a command that opens the keyring (rotate-keys).
 */
const root = resolve(__dirname, '../..');
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const blind = randomBytes(32).toString('base64');

function run(entry: string, env: Record<string, string>, dataDir: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(root, 'dist', entry)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DEMO_SEED: 'false',
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      ...env,
    },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('master key check at start-up', () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  let app: AppProcess | undefined;
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'pj-mk-'));
    chmodSync(d, 0o755);
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    ensureBuilt();
    db = await createTestDatabase();
    // Two organizations whose keys were wrapped by master key v1 = k1.
    const master = new PhiCipherCore({ encryption: [{ version: 'v1', key: Buffer.from(k1, 'base64') }], blindIndex: Buffer.from(blind, 'base64') });
    for (let i = 0; i < 2; i++) {
      const org = await createOrganization(db);
      await db.query(`INSERT INTO organization_keys (organization_id, version, wrapped_key) VALUES ($1, 1, $2)`, [
        org.id,
        master.wrapKey(randomBytes(32), organizationKeyAad(org.id, 1)),
      ]);
    }
  }, 300_000);

  afterAll(async () => {
    await killAppProcess(app);
    await db.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the app with another PHI_ENCRYPTION_KEYS exits 1 with one message naming the setting, never a key', () => {
    const r = run('main.js', { DATABASE_URL: db.url, PHI_ENCRYPTION_KEYS: `v1:${k2}`, PHI_BLIND_INDEX_KEY: blind }, dir());
    expect(r.status).toBe(1);
    expect(r.output).toContain('The PHI master key of PHI_ENCRYPTION_KEYS does not open this database');
    expect(r.output).toContain('master key version v1 fails to unwrap; configured: v1 (same version name, different key)');
    expect(r.output).not.toContain("embedded PostgreSQL's database"); // that advice is for the embedded database only
    expect(r.output).not.toContain(k1);
    expect(r.output).not.toContain(k2);
    expect(r.output).not.toMatch(/\n\s+at /);
    expect(r.output).not.toContain('listening');
  });

  it('a key of another version only: names the versions', () => {
    const r = run('main.js', { DATABASE_URL: db.url, PHI_ENCRYPTION_KEYS: `v2:${k2}`, PHI_BLIND_INDEX_KEY: blind }, dir());
    expect(r.status).toBe(1);
    expect(r.output).toContain('master key version v1 fails to unwrap; configured: v2');
  });

  it('without the setting, names the key file under DATA_DIR (a fresh one: generated, so not the key of the data)', () => {
    const d = dir();
    const r = run('main.js', { DATABASE_URL: db.url, PHI_BLIND_INDEX_KEY: blind }, d);
    expect(r.status).toBe(1);
    expect(r.output).toContain(`The PHI master key of the file ${join(d, 'phi-encryption-key')} (PHI_ENCRYPTION_KEYS unset) does not open`);
  });

  it('a command that opens the keyring (rotate-keys) refuses the same way, exit code 1', () => {
    const r = run('cli/rotate-keys.js', { DATABASE_URL: db.url, PHI_ENCRYPTION_KEYS: `v1:${k2}`, PHI_BLIND_INDEX_KEY: blind }, dir());
    expect(r.status).toBe(1);
    expect(r.output.trim().split('\n').filter((l) => l.includes('PHI master key'))).toHaveLength(1);
    expect(r.output).not.toContain(k2);
    expect(r.output).not.toMatch(/\n\s+at /);
  });

  it('the right key: from the file under DATA_DIR the app starts; a new key listed first with the old one after it starts too', async () => {
    const d = dir();
    writeFileSync(join(d, 'phi-encryption-key'), `${k1}\n`, { mode: 0o600 });
    writeFileSync(join(d, 'phi-blind-index-key'), `${blind}\n`, { mode: 0o600 });
    app = await startAppProcess(db.url, {}, d);
    expect((await fetch(`${app.base}/health/ready`)).status).toBe(200);
    await killAppProcess(app);
    app = await startAppProcess(db.url, { PHI_ENCRYPTION_KEYS: `v2:${k2},v1:${k1}`, PHI_BLIND_INDEX_KEY: blind }, dir());
    expect((await fetch(`${app.base}/health/ready`)).status).toBe(200);
  }, 240_000);
});
