import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessGuard } from 'src/auth/access.guard';
import { ApiKeyRow } from 'src/auth/auth.repository';
import { Authorized } from 'src/auth/authorized.decorator';
import { IdentityService } from 'src/auth/identity.service';
import { Permission } from 'src/auth/permissions';
import { Public } from 'src/common/http/public.decorator';
import type { Settings } from 'src/config/settings';
import { ProblemException } from 'src/common/problem/problem';

class Routes {
  @Public()
  open(): void {}

  undeclared(): void {}

  @Authorized(Permission.DataWrite)
  ingest(): void {}
}

const ORG = '0b6b1f8e-8a3c-4f3e-9d7e-2f1a4c5b6d7e';
const KEY: ApiKeyRow = {
  id: 'k1', organizationId: ORG, name: 'ehr', prefix: 'pjk_abcdefgh', permissions: ['data:write', 'unknown:perm'],
  createdBy: null, createdAt: new Date(), lastUsedAt: null, revokedAt: null, expiresAt: null,
};

function context(handler: keyof Routes, request: Record<string, unknown>): ExecutionContext {
  return {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

describe('AccessGuard', () => {
  const identity = { apiKey: jest.fn(async () => KEY) } as unknown as IdentityService;
  const guard = new AccessGuard(new Reflector(), identity, { authCacheSeconds: 5 } as Settings);
  const request = (params: Record<string, string>, authorization?: string) => ({ id: 'req-1', headers: authorization ? { authorization } : {}, params, url: '/x', routeOptions: {} });

  it('lets a public route through without a token', async () => {
    await expect(guard.canActivate(context('open', request({})))).resolves.toBe(true);
  });

  it('answers 401 without a bearer token', async () => {
    await expect(guard.canActivate(context('ingest', request({ organizationId: ORG })))).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a route that declares nothing, even to a valid caller', async () => {
    const err = await guard.canActivate(context('undeclared', request({ organizationId: ORG }, 'Bearer pjk_x'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemException);
    expect(err).toMatchObject({ status: 403 });
  });

  it('fails loudly when a permission route has no :organizationId', async () => {
    await expect(guard.canActivate(context('ingest', request({}, 'Bearer pjk_x')))).rejects.toThrow(/has no :organizationId/);
  });

  it('builds the AuthContext of an API key (its known permissions, no role)', async () => {
    const req = request({ organizationId: ORG.toUpperCase() }, 'Bearer pjk_x') as Record<string, unknown>;
    await expect(guard.canActivate(context('ingest', req))).resolves.toBe(true);
    expect(req.auth).toEqual({ actor: { type: 'api_key', id: 'k1' }, organizationId: ORG, role: null, permissions: new Set([Permission.DataWrite]), requestId: 'req-1' });
  });
});
