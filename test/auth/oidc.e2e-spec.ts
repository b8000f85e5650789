import { createSign, generateKeyPairSync, JsonWebKey, KeyObject, randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createMember, createOrganization, createUser } from 'test/auth/auth-fixtures';

/** Production mode: RS256/ES256 tokens of an OpenID Connect issuer, verified against its JWKS. */

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  jwk: JsonWebKey;
}

function newKey(kid: string, alg: 'RS256' | 'ES256'): SigningKey {
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function sign(key: SigningKey, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: key.alg, typ: 'JWT', kid: key.kid })}.${b64({ iat: now, exp: now + 600, ...claims })}`;
  const signer = createSign('SHA256').update(input);
  const signature = key.alg === 'RS256' ? signer.sign(key.privateKey) : signer.sign({ key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

describe('production authentication against a JWKS', () => {
  const ISSUER = 'https://login.example.test/';
  const AUDIENCE = 'patient-journey-api';
  const rsa = newKey('rsa-1', 'RS256');
  const ec = newKey('ec-1', 'ES256');
  let published: SigningKey[] = [rsa, ec];
  let jwksFetches = 0;
  let server: Server;
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        JWT_SECRET: '',
        JWKS_URI: `http://127.0.0.1:${port}/jwks.json`,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        PHI_ENCRYPTION_KEYS: `v1:${randomBytes(32).toString('base64')}`,
        PHI_BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
        ERASURE_TOMBSTONE_KEY: randomBytes(32).toString('base64'),
        AUTH_CACHE_SECONDS: '0',
      },
    });
    org = (await createOrganization(t.db)).id;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const me = (token: string) => t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
  const valid = { iss: ISSUER, aud: AUDIENCE };

  async function memberWithSubject(subject: string): Promise<string> {
    const { userId } = await createMember(t.db, org, Role.Clinician);
    await t.db.query(`UPDATE users SET external_subject = $2 WHERE id = $1`, [userId, subject]);
    return userId;
  }

  it('accepts RS256 and ES256 tokens of the issuer, mapping sub to the user', async () => {
    const userId = await memberWithSubject('idp|alice');
    for (const key of [rsa, ec]) {
      const res = await me(sign(key, { ...valid, sub: 'idp|alice' }));
      expect(res.statusCode).toBe(200);
      expect(res.json().user.id).toBe(userId);
    }
  });

  it('refuses wrong audience, wrong issuer, expiry, HS256 and a development-style user id subject', async () => {
    const { userId } = await createMember(t.db, org, Role.Owner);
    await memberWithSubject('idp|bob');
    const statuses = [
      (await me(sign(rsa, { ...valid, sub: 'idp|bob', aud: 'another-api' }))).statusCode,
      (await me(sign(rsa, { ...valid, sub: 'idp|bob', iss: 'https://evil.example.test/' }))).statusCode,
      (await me(sign(rsa, { ...valid, sub: 'idp|bob', exp: Math.floor(Date.now() / 1000) - 5 }))).statusCode,
      (await me(sign(rsa, { ...valid, sub: userId }))).statusCode,
    ];
    expect(statuses).toEqual([401, 401, 401, 401]);
    const hs = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...valid, sub: 'idp|bob', exp: Math.floor(Date.now() / 1000) + 60 })}.c2ln`;
    expect((await me(hs)).statusCode).toBe(401);
  });

  it('binds the subject to a pre-provisioned user on first sign-in with a verified email only', async () => {
    const { userId, email } = await createUser(t.db, { email: 'new.doctor@clinic.test' });
    expect((await me(sign(rsa, { ...valid, sub: 'idp|carol', email, email_verified: false }))).statusCode).toBe(401);
    const res = await me(sign(rsa, { ...valid, sub: 'idp|carol', email, email_verified: true }));
    expect(res.statusCode).toBe(200);
    expect(res.json().user.id).toBe(userId);
    const [row] = await t.db.query<{ external_subject: string }>(`SELECT external_subject FROM users WHERE id = $1`, [userId]);
    expect(row.external_subject).toBe('idp|carol');
  });

  it('refetches the JWKS for an unknown kid (key rotation)', async () => {
    await memberWithSubject('idp|dave');
    const rotated = newKey('rsa-2', 'RS256');
    published = [rotated, rsa];
    const before = jwksFetches;
    const res = await me(sign(rotated, { ...valid, sub: 'idp|dave' }));
    expect(res.statusCode).toBe(200);
    expect(jwksFetches).toBeGreaterThan(before);
    // A kid the issuer never published stays unknown.
    expect((await me(sign(newKey('rogue', 'RS256'), { ...valid, sub: 'idp|dave' }))).statusCode).toBe(401);
  });
});
