import { Body, CallHandler, Controller, ExecutionContext, Get, Injectable, Module, NestInterceptor, Param, Post, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsBoolean, IsOptional, IsString } from 'class-validator';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import type { InjectOptions, Response as LightMyRequestResponse } from 'light-my-request';
import { Observable, of, tap } from 'rxjs';
import { AppModule } from 'src/app.module';
import { AuditAction } from 'src/audit/trail/audit-action';
import { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { FixedClock } from 'src/common/clock/clock';
import { OrganizationParams, PatientParams } from 'src/common/http/path-params.dto';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { requestIdFor } from 'src/common/logging/logging';
import { installRequestValidation } from 'src/common/validation/request-schemas';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { Settings } from 'src/config/settings';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import { TEST_NOW, testSettings } from 'test/utils/test-app';

/**
 * The real application plus a test-only controller of audited patient routes (under /api/v1/audit-test, so it
 * never collides with the real patient routes): a page of patients, one patient (404 when absent), a cached page,
 * the same page without audit options (the throughput baseline) and a write that records its own event.
 */

interface PatientPage {
  patients: { id: string; name: string; status: string | null }[];
}

class RenameBody {
  @IsString()
  name: string;
  @IsOptional()
  @IsBoolean()
  fail?: boolean;
}

/** A stand-in for a cache interceptor: the second call of a URL never reaches the handler. */
@Injectable()
class TinyCacheInterceptor implements NestInterceptor {
  private readonly cache = new Map<string, unknown>();
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const url = ctx.switchToHttp().getRequest<{ url: string }>().url;
    if (this.cache.has(url)) return of(this.cache.get(url));
    return next.handle().pipe(tap((body) => this.cache.set(url, body)));
  }
}

@Injectable()
class FakePatients {
  constructor(private readonly tenantDb: TenantDb) {}

  page(organizationId: string): Promise<PatientPage> {
    return this.tenantDb.transaction(organizationId, async (m) => {
      const rows: { id: string; name: string; status: string | null }[] = await m.query(
        `SELECT p.id, p.name, pm.status FROM patients p LEFT JOIN patient_metrics pm ON pm.patient_id = p.id
         WHERE p.organization_id = $1 AND p.deleted_at IS NULL ORDER BY p.name, p.id LIMIT 20`,
        [organizationId],
      );
      return { patients: rows };
    });
  }

  one(organizationId: string, patientId: string): Promise<{ id: string; name: string }> {
    return this.tenantDb.transaction(organizationId, async (m) => {
      const rows: { id: string; name: string }[] = await m.query(`SELECT id, name FROM patients WHERE organization_id = $1 AND id = $2`, [organizationId, patientId]);
      if (rows.length === 0) throw ProblemException.notFound(ProblemCode.PatientNotFound, 'No such patient in this organization');
      return rows[0];
    });
  }

  rename(organizationId: string, patientId: string, name: string, audit: RequestAudit, failAfterAudit: boolean): Promise<{ updated: number }> {
    return this.tenantDb.transaction(organizationId, async (m) => {
      const rows: unknown[] = await m.query(`UPDATE patients SET name = $3 WHERE organization_id = $1 AND id = $2 RETURNING id`, [organizationId, patientId, name]);
      await audit.record(m, { action: AuditAction.Update, patientIds: [patientId] });
      if (failAfterAudit) throw ProblemException.badRequest('failing on purpose after the audit record');
      return { updated: rows.length };
    });
  }
}

@Controller('audit-test')
class FakePatientsController {
  constructor(private readonly patients: FakePatients) {}

  @Get(':organizationId/profiles')
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.List, resource: 'patient', patientIds: (b: PatientPage) => b.patients.map((p) => p.id) } })
  profiles(@Param() p: OrganizationParams): Promise<PatientPage> {
    return this.patients.page(p.organizationId);
  }

  @Get(':organizationId/profiles-unaudited')
  @Authorized(Permission.PatientsRead)
  profilesUnaudited(@Param() p: OrganizationParams): Promise<PatientPage> {
    return this.patients.page(p.organizationId);
  }

  @Get(':organizationId/cached-profiles')
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.List, resource: 'patient', patientIds: (b: PatientPage) => b.patients.map((p) => p.id) } })
  @UseInterceptors(TinyCacheInterceptor)
  cachedProfiles(@Param() p: OrganizationParams): Promise<PatientPage> {
    return this.patients.page(p.organizationId);
  }

  @Get(':organizationId/profile/:patientId')
  @Authorized(Permission.PatientsRead, { audit: { action: AuditAction.Read, resource: 'patient' } })
  profile(@Param() p: PatientParams): Promise<{ id: string; name: string }> {
    return this.patients.one(p.organizationId, p.patientId);
  }

  @Post(':organizationId/profile/:patientId/name')
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Update, resource: 'patient', writesOwnAudit: true } })
  rename(@Param() p: PatientParams, @Body() body: RenameBody, @RequestAuditor() audit: RequestAudit): Promise<{ updated: number }> {
    return this.patients.rename(p.organizationId, p.patientId, body.name, audit, body.fail === true);
  }
}

@Module({ controllers: [FakePatientsController], providers: [FakePatients, TinyCacheInterceptor] })
class FakePatientsModule {}

export interface AuditTestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  clock: FixedClock;
  settings: Settings;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createAuditTestApp(options: { env?: Record<string, string>; db?: TestDatabase } = {}): Promise<AuditTestApp> {
  const db = options.db ?? (await createTestDatabase());
  const settings = testSettings(db.url, options.env);
  const clock = new FixedClock(TEST_NOW);
  @Module({ imports: [AppModule.register({ settings, databaseUrl: db.url, clock }), FakePatientsModule] })
  class RootModule {}
  const adapter = new FastifyAdapter({ genReqId: (req: IncomingMessage) => requestIdFor(req), requestIdHeader: false, trustProxy: true });
  installRequestValidation(adapter.getInstance()); // as createApp: the hot read routes' Fastify route schemas
  const app = await NestFactory.create<NestFastifyApplication>(RootModule, adapter, { logger: false, abortOnError: false });
  app.setGlobalPrefix('api/v1');
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    db,
    clock,
    settings,
    inject: (o) => app.inject(o) as Promise<LightMyRequestResponse>,
    async close() {
      await app.close();
      if (!options.db) await db.drop();
    },
  };
}
