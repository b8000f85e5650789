import { verify } from 'jsonwebtoken';
import { DEV_TOKEN_ISSUER, parseDuration, signDevToken } from 'src/auth/dev-token';

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['-1h', -3600],
    [42, 42],
  ] as const)('%s → %d s', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each(['', 'soon', '1w', '1.5h', 'h'])('refuses %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/Invalid duration/);
  });
});

describe('signDevToken', () => {
  const secret = 's'.repeat(48);

  it('signs an HS256 JWT that jsonwebtoken verifies, with iat/exp and the issuer', () => {
    const token = signDevToken(secret, { sub: 'u1', email: 'a@b.test' }, { expiresIn: '2h', nowSeconds: 1_800_000_000 });
    const claims = verify(token, secret, { algorithms: ['HS256'], clockTimestamp: 1_800_000_100 }) as Record<string, unknown>;
    expect(claims).toEqual({ iss: DEV_TOKEN_ISSUER, sub: 'u1', email: 'a@b.test', iat: 1_800_000_000, exp: 1_800_007_200 });
  });

  it('produces a token another secret does not verify, and an expired one when asked', () => {
    const token = signDevToken(secret, { sub: 'u1' });
    expect(() => verify(token, 'x'.repeat(48), { algorithms: ['HS256'] })).toThrow(/signature/);
    expect(() => verify(signDevToken(secret, { sub: 'u1' }, { expiresIn: -10 }), secret, { algorithms: ['HS256'] })).toThrow(/expired/);
  });
});
