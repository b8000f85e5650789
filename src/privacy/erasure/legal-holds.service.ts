import { randomUUID } from 'node:crypto';
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
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import type { PhiDataKey, PhiPlace } from 'src/records/phi/phi-data-key';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

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
    private readonly keyring: PhiKeyring,
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
      // The reason may name people: under the organization's own key, bound to this hold.
      const id = randomUUID();
      const orgKey = await this.keyring.organizationDataKey(db, true);
      const hold = await this.repository.create(db, {
        id,
        allPatients: all,
        patientIds,
        reasonEnc: orgKey.encrypt(body.reason, reasonPlace(id)) as string,
        until,
        createdAt: now,
        createdBy: `${auth.actor.type}:${auth.actor.id}`,
      });
      await audit.record(db, { action: AuditAction.Create, patientIds });
      return this.json(hold, now, orgKey);
    });
    return row;
  }

  async list(auth: AuthContext): Promise<LegalHoldsResponse> {
    const now = this.clock.now();
    return this.tenantDb.read(auth.organizationId, async (db) => {
      const rows = await this.repository.list(db);
      const orgKey = await this.keyring.organizationDataKey(db, false);
      return { holds: rows.map((r) => this.json(r, now, orgKey)) };
    });
  }

  async release(auth: AuthContext, holdId: string, audit: RequestAudit): Promise<LegalHoldResponse> {
    const now = this.clock.now();
    const row = await this.tenantDb.transaction(auth.organizationId, async (db) => {
      // Released already: the same answer again.
      const hold =
        (await this.repository.release(db, holdId, now, `${auth.actor.type}:${auth.actor.id}`)) ?? (await this.repository.get(db, holdId));
      if (!hold) throw ProblemException.notFound(ProblemCode.NotFound, 'No legal hold with this id in this organization');
      await audit.record(db, { action: AuditAction.Update, patientIds: hold.patientIds });
      return this.json(hold, now, await this.keyring.organizationDataKey(db, false));
    });
    return row;
  }

  private json(r: LegalHoldRow, now: Date, orgKey: PhiDataKey): LegalHoldResponse {
    return {
      id: r.id,
      all: r.allPatients,
      patient_ids: r.patientIds,
      reason: readReason(orgKey, r),
      until: r.until?.toISOString() ?? null,
      created_at: r.createdAt.toISOString(),
      created_by: r.createdBy,
      released_at: r.releasedAt?.toISOString() ?? null,
      released_by: r.releasedBy,
      in_force: r.releasedAt === null && (r.until === null || r.until > now),
    };
  }
}

/** Where a hold's reason is stored: its ciphertext is bound to the hold (a copy in another row does not decrypt). */
function reasonPlace(holdId: string): PhiPlace {
  return { table: 'legal_holds', column: 'reason_enc', row: holdId };
}

/** The hold's reason; empty when it cannot be read (a damaged or misplaced value: the hold itself still stands). */
function readReason(orgKey: PhiDataKey, r: LegalHoldRow): string {
  try {
    return orgKey.decrypt(r.reasonEnc, reasonPlace(r.id)) ?? '';
  } catch (err) {
    if (err instanceof PhiDecryptError) return '';
    throw err;
  }
}
