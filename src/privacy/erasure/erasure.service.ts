import { Injectable, Logger } from '@nestjs/common';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { StoredReceipt } from 'src/privacy/erasure/erasure.repository';
import type { ErasureBody } from 'src/privacy/erasure/dto/erasure.dto';
import type { ErasureReceiptResponse } from 'src/privacy/erasure/dto/erasure.response';
import { PatientEraser } from 'src/privacy/erasure/patient-eraser';
import { ScoringEvents } from 'src/scoring/scoring-events';

export function receiptJson(r: StoredReceipt): ErasureReceiptResponse {
  return {
    erasure_id: r.id,
    patient_id: r.patientId,
    basis: r.basis,
    erased_at: r.erasedAt.toISOString(),
    records_deleted: r.recordsDeleted,
    records_unlinked: r.recordsUnlinked,
  };
}

/**
 * A patient's erasure on request (right to erasure, GDPR art. 17): one transaction (PatientEraser) with its audit
 * event in it; then the caches of the organization forget (the list's total, the summaries and the risk summary
 * drop by one at once).
 */
@Injectable()
export class ErasureService {
  private readonly logger = new Logger(ErasureService.name);

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly eraser: PatientEraser,
    private readonly events: ScoringEvents,
    private readonly clock: Clock,
  ) {}

  async erase(auth: AuthContext, patientId: string, body: ErasureBody, audit: RequestAudit): Promise<ErasureReceiptResponse> {
    const id = patientId.toLowerCase();
    const { receipt, repeated } = await this.tenantDb.transaction(auth.organizationId, async (db) => {
      const result = await this.eraser.erase(db, id, {
        basis: body.basis,
        reason: body.reason,
        actor: `${auth.actor.type}:${auth.actor.id}`,
        now: this.clock.now(),
        waitForRecompute: false,
      });
      // Last in the transaction (it locks the audit chain): the erasure, or the reading of its receipt again.
      await audit.record(
        db,
        result.repeated
          ? { action: AuditAction.Read, patientIds: [], resource: 'erasure_receipt' }
          : { action: AuditAction.Delete, patientIds: [] },
      );
      return result;
    });
    if (!repeated) this.forget(auth.organizationId, [id]);
    return receiptJson(receipt);
  }

  /** After erasures committed: counts, pages, summaries, opportunities and the rollup of the organization follow. */
  forget(organizationId: string, patientIds: string[]): void {
    try {
      this.events.patientsRecomputed(organizationId, patientIds);
    } catch (err) {
      this.logger.warn(`Caches not told of an erasure in organization ${organizationId}: ${(err as Error).message}`);
    }
  }
}
