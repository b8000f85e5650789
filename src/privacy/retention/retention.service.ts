import { Injectable } from '@nestjs/common';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { RetentionPolicyBody, RetentionPolicyResponse } from 'src/privacy/retention/dto/retention.dto';
import { RetentionRepository } from 'src/privacy/retention/retention.repository';

/** The organization's retention policy (docs/privacy.md, "Retention"); a change is audited with it. */
@Injectable()
export class RetentionService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: RetentionRepository,
    private readonly clock: Clock,
  ) {}

  async get(auth: AuthContext): Promise<RetentionPolicyResponse> {
    const p = await this.tenantDb.read(auth.organizationId, (db) => this.repository.policy(db));
    return { inactive_patient_years: p.inactivePatientYears, audit_years: p.auditYears, updated_at: p.updatedAt?.toISOString() ?? null };
  }

  async put(auth: AuthContext, body: RetentionPolicyBody, audit: RequestAudit): Promise<RetentionPolicyResponse> {
    const now = this.clock.now();
    await this.tenantDb.transaction(auth.organizationId, async (db) => {
      await this.repository.savePolicy(
        db,
        { inactivePatientYears: body.inactive_patient_years, auditYears: body.audit_years },
        now,
        `${auth.actor.type}:${auth.actor.id}`,
      );
      await audit.record(db, { action: AuditAction.Update, patientIds: [] });
    });
    return { inactive_patient_years: body.inactive_patient_years, audit_years: body.audit_years, updated_at: now.toISOString() };
  }
}
