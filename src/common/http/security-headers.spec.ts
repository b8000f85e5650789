import { securityHeaders } from 'src/common/http/security-headers';

describe('securityHeaders', () => {
  it("is helmet's header set for the API's configuration", () => {
    const headers = securityHeaders();
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
    expect(headers['content-security-policy']).toContain("img-src 'self' data:");
    // Swagger UI over plain HTTP from another host: its assets must not be upgraded to https.
    expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'cross-origin-opener-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
    });
    expect(Object.keys(headers).every((k) => k === k.toLowerCase())).toBe(true);
  });
});
