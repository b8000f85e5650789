import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevTokenError, issueDevToken } from 'src/auth/dev-token-issuer';
import { loadSettings } from 'src/config/settings';
import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createOrganization } from 'test/auth/auth-fixtures';

/** The token command's work (src/cli/token.ts is its thin shell): the app and the command share the secret. */
describe('development tokens (npm run token)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pj-token-'));
  let t: TestApp;
  let org: { id: string; slug: string };

  beforeAll(async () => {
    // No JWT_SECRET: the app generates one under DATA_DIR; the command, reading the same DATA_DIR, must agree.
    t = await createTestApp({ env: { JWT_SECRET: '', DATA_DIR: dataDir } });
    org = await createOrganization(t.db, { slug: 'cli-clinic', name: 'CLI Clinic' });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cliSettings = () => loadSettings({ NODE_ENV: 'development', DATA_DIR: dataDir, DATABASE_URL: t.db.url });

  it('creates the user and membership, and the app accepts the token', async () => {
    const issued = await issueDevToken(t.db.url, cliSettings(), { org: 'cli-clinic', role: Role.Marketing });
    expect(issued).toMatchObject({ email: 'marketing@cli-clinic.example', organizationId: org.id, role: 'marketing', createdUser: true, membershipChange: 'created', expiresInSeconds: 3600 });
    const me = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(issued.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json().memberships).toEqual([expect.objectContaining({ organization_id: org.id, role: 'marketing' })]);
  });

  it('reuses the user, updates the role, accepts an id and a ttl', async () => {
    const first = await issueDevToken(t.db.url, cliSettings(), { org: org.id, role: Role.Clinician, email: 'Dr.Smith@Clinic.test', ttl: '15m' });
    const again = await issueDevToken(t.db.url, cliSettings(), { org: 'cli-clinic', role: Role.Owner, email: 'dr.smith@clinic.test' });
    expect(first).toMatchObject({ createdUser: true, membershipChange: 'created', expiresInSeconds: 900, email: 'dr.smith@clinic.test' });
    expect(again).toMatchObject({ userId: first.userId, createdUser: false, membershipChange: 'updated' });
    const rows = await t.db.query(`SELECT role FROM memberships WHERE user_id = $1`, [first.userId]);
    expect(rows).toEqual([{ role: 'owner' }]);
  });

  it.each([
    [{ org: 'nowhere', role: Role.Admin }, 'No organization "nowhere"'],
    [{ org: 'cli-clinic', role: 'nurse' as Role }, 'Unknown role "nurse"'],
    [{ org: 'cli-clinic', role: Role.Admin, ttl: 'soon' }, 'Invalid duration'],
    [{ org: 'cli-clinic', role: Role.Admin, ttl: '90d' }, 'between 1s and 30d'],
  ])('refuses %j', async (request, message) => {
    await expect(issueDevToken(t.db.url, cliSettings(), request)).rejects.toThrow(DevTokenError);
    await expect(issueDevToken(t.db.url, cliSettings(), request)).rejects.toThrow(message);
  });

  it('refuses in production', async () => {
    const production = { ...cliSettings(), nodeEnv: 'production' as const };
    await expect(issueDevToken(t.db.url, production, { org: 'cli-clinic', role: Role.Admin })).rejects.toThrow(/for development/);
  });
});
