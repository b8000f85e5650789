import { Injectable } from '@nestjs/common';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { CreateLegalHoldBody } from 'src/privacy/erasure/dto/legal-holds.dto';
import type { LegalHoldResponse, LegalHoldsResponse } from 'src/privacy/erasure/dto/legal-holds.response';
import { LegalHoldRow, LegalHoldsRepository } from 'src/privacy/erasure/legal-holds.repository';
import { PhiCipher } from 'src/records/phi/phi-cipher';

/**
 * Legal holds (docs/privacy.md, "Legal holds"): while one is in force (not released, before its `until`), the patients
 * it covers cannot be erased (409) and the retention sweep skips them. Placing and releasing one is audited in the
 * transaction that does it.
 */
@Injectable()
export class LegalHoldsService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: LegalHoldsRepository,
    private readonly cipher: PhiCipher,
    private readonly clock: Clock,
  ) {}

  async create(auth: AuthContext, body: CreateLegalHoldBody, audit: RequestAudit): Promise<LegalHoldResponse> {
    const all = body.all === true;
    if (all === (body.patient_ids !== undefined)) {
      throw ProblemException.invalidField(
        'body',
        body.patient_ids ? 'all' : 'patient_ids',
        'give either patient_ids or all: true (one of them)',
      );
    }
    const now = this.clock.now();
    const until = body.until === undefined ? null : new Date(body.until);
    if (until && until <= now) throw ProblemException.invalidField('body', 'until', 'must be in the future');
    const patientIds = [...new Set((body.patient_ids ?? []).map((id) => id.toLowerCase()))];
    const row = await this.tenantDb.transaction(auth.organizationId, async (db) => {
      const hold = await this.repository.create(db, {
        allPatients: all,
        patientIds,
        reasonEnc: this.cipher.encrypt(body.reason) as string,
        until,
        createdAt: now,
        createdBy: `${auth.actor.type}:${auth.actor.id}`,
      });
      await audit.record(db, { action: AuditAction.Create, patientIds });
      return hold;
    });
    return this.json(row, now);
  }

  async list(auth: AuthContext): Promise<LegalHoldsResponse> {
    const now = this.clock.now();
    const rows = await this.tenantDb.read(auth.organizationId, (db) => this.repository.list(db));
    return { holds: rows.map((r) => this.json(r, now)) };
  }

  async release(auth: AuthContext, holdId: string, audit: RequestAudit): Promise<LegalHoldResponse> {
    const now = this.clock.now();
    const row = await this.tenantDb.transaction(auth.organizationId, async (db) => {
      // Released already: the same answer again.
      const hold =
        (await this.repository.release(db, holdId, now, `${auth.actor.type}:${auth.actor.id}`)) ?? (await this.repository.get(db, holdId));
      if (!hold) throw ProblemException.notFound(ProblemCode.NotFound, 'No legal hold with this id in this organization');
      await audit.record(db, { action: AuditAction.Update, patientIds: hold.patientIds });
      return hold;
    });
    return this.json(row, now);
  }

  private json(r: LegalHoldRow, now: Date): LegalHoldResponse {
    return {
      id: r.id,
      all: r.allPatients,
      patient_ids: r.patientIds,
      reason: this.cipher.decrypt(r.reasonEnc) ?? '',
      until: r.until?.toISOString() ?? null,
      created_at: r.createdAt.toISOString(),
      created_by: r.createdBy,
      released_at: r.releasedAt?.toISOString() ?? null,
      released_by: r.releasedBy,
      in_force: r.releasedAt === null && (r.until === null || r.until > now),
    };
  }
}
