import { Controller, Get, UseInterceptors } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { AuditOnSuccessInterceptor, auditInterceptionProblems } from 'src/audit/recording/audit-on-success.interceptor';
import { auditedOptionsOf } from 'src/audit/recording/audited.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** Every route handler of the app with its controller. */
function handlers(t: TestApp): { controller: Function; name: string; handler: Function }[] {
  const out: { controller: Function; name: string; handler: Function }[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Function;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        out.push({ controller, name, handler });
      }
    }
  }
  return out;
}

/**
 * The audit interceptor is on the audited routes only: a route without audit options runs no interceptor (no rxjs
 * layer), an audited one runs it before any other of its interceptors (its cache hits recorded: audit-trail tests).
 */
describe('the audit interceptor on the audited routes only', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('every audited route has it first; every other route has no interceptor; no global or controller interceptor', () => {
    const all = handlers(t);
    const audited = all.filter((h) => auditedOptionsOf(h.handler));
    const plain = all.filter((h) => !auditedOptionsOf(h.handler));
    expect(audited.length).toBeGreaterThan(10);
    expect(plain.length).toBeGreaterThan(5);
    for (const h of audited) expect([`${h.controller.name}.${h.name}`, Reflect.getMetadata(INTERCEPTORS_METADATA, h.handler)?.[0]]).toEqual([`${h.controller.name}.${h.name}`, AuditOnSuccessInterceptor]);
    for (const h of plain) expect([`${h.controller.name}.${h.name}`, Reflect.getMetadata(INTERCEPTORS_METADATA, h.handler)]).toEqual([`${h.controller.name}.${h.name}`, undefined]);
    // The risk summary (cached, not audited) among them.
    expect(plain.map((h) => `${h.controller.name}.${h.name}`)).toEqual(expect.arrayContaining(['RiskSummaryController.getRiskSummary', 'MeController.getMe']));
    expect(auditInterceptionProblems(all.map((h) => h.controller), 0)).toEqual([]);
  });

  it('runs on an audited request (its event in the trail when the answer arrives), not on a plain one', async () => {
    const org = await createOrganization(t.db);
    const token = await memberToken(t, org.id, Role.Owner);
    const intercept = jest.spyOn(AuditOnSuccessInterceptor.prototype, 'intercept');
    try {
      const me = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
      expect(me.statusCode).toBe(200);
      const summary = await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/risk-summary`, headers: bearer(token) });
      expect(summary.statusCode).toBe(200);
      expect(intercept).not.toHaveBeenCalled();
      const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profiles?limit=5`, headers: bearer(token) });
      expect(list.statusCode).toBe(200);
      expect(intercept).toHaveBeenCalledTimes(1);
      const rows = await t.db.query<{ action: string; resource: string; outcome: string }>(
        `SELECT action, resource, outcome FROM audit_events WHERE organization_id = $1 ORDER BY occurred_at`,
        [org.id],
      );
      expect(rows).toEqual([{ action: AuditAction.List, resource: 'patient', outcome: 'success' }]);
    } finally {
      intercept.mockRestore();
    }
  });
});

class Cache {
  intercept(): never {
    throw new Error('not run');
  }
}

@UseInterceptors(Cache)
@Controller('x')
class CachedController {
  @Get('a')
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.Read, resource: 'patient' } })
  a(): void {}
}

@Controller('y')
class RouteCacheController {
  @Get('below')
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.Read, resource: 'patient' } })
  @UseInterceptors(Cache)
  below(): void {}

  @Get('above')
  @UseInterceptors(Cache)
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.Read, resource: 'patient' } })
  above(): void {}
}

describe('auditInterceptionProblems (AuditModule refuses to start on any)', () => {
  it("puts the audit's first whatever the order of a route's @UseInterceptors", () => {
    expect(Reflect.getMetadata(INTERCEPTORS_METADATA, RouteCacheController.prototype.below)).toEqual([AuditOnSuccessInterceptor, Cache]);
    expect(Reflect.getMetadata(INTERCEPTORS_METADATA, RouteCacheController.prototype.above)).toEqual([AuditOnSuccessInterceptor, Cache]);
    expect(auditInterceptionProblems([RouteCacheController], 0)).toEqual([]);
  });

  it('flags a controller-level interceptor and a global one (both run before a route’s own)', () => {
    expect(auditInterceptionProblems([CachedController], 0)).toEqual(["CachedController.a: its controller's interceptors run before the audit's"]);
    expect(auditInterceptionProblems([RouteCacheController], 1)).toEqual([
      "RouteCacheController.below: 1 global interceptor(s) run before the audit's",
      "RouteCacheController.above: 1 global interceptor(s) run before the audit's",
    ]);
  });
});
