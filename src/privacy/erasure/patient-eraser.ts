import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { ErasureBasis, ErasureRepository, StoredReceipt } from 'src/privacy/erasure/erasure.repository';
import { LegalHoldsRepository } from 'src/privacy/erasure/legal-holds.repository';
import { PatientIdentifiers } from 'src/records/identifiers/patient-identifiers';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { ErasureTombstones } from 'src/records/tombstones/erasure-tombstones';

export interface ErasureRequest {
  basis: ErasureBasis;
  /** Free text; stored encrypted (it may name the person), never logged. */
  reason: string | null;
  /** Who erases (`<type>:<id>`, or `system:retention-sweep`). */
  actor: string;
  now: Date;
  /**
   * While an organization-wide recompute runs: wait for it (the sweep, in a batch transaction), or answer 503 with
   * Retry-After at once (a request).
   */
  waitForRecompute: boolean;
}

/** An erasure asked for while the organization's scores are recomputed: retry in a minute. */
export const RECOMPUTE_RETRY_AFTER_SECONDS = 60;

/** A patient under a legal hold cannot be erased: 409 naming the holds. */
export function heldProblem(holdIds: string[]): ProblemException {
  return new ProblemException(
    ProblemCode.LegalHold,
    HttpStatus.CONFLICT,
    `The patient is under legal hold ${holdIds.join(', ')}: release the hold before erasing`,
    undefined,
    undefined,
    { hold_ids: holdIds },
  );
}

/**
 * Erases one patient inside the caller's transaction (docs/privacy.md, "Erasure"): every row of theirs in every table
 * that has a `patient_id` column (found through the catalog, so a table added later is covered, the per-patient keys
 * and identifiers included), the rollup and opportunity totals corrected, their FHIR import resources and the files
 * of exports asked for them, other patients' referrals of them kept without their identity, then the patient row; a
 * tombstone of their source key and of each of their identifiers; the receipt. A patient erased already answers
 * their first receipt (`repeated`); an unknown one 404; a held one 409.
 */
@Injectable()
export class PatientEraser {
  constructor(
    private readonly repository: ErasureRepository,
    private readonly holds: LegalHoldsRepository,
    private readonly tombstones: ErasureTombstones,
    private readonly opportunities: OpportunitiesRefresher,
    private readonly rollup: EngagementRollupService,
    private readonly keyring: PhiKeyring,
    private readonly identifiers: PatientIdentifiers,
  ) {}

  async erase(db: TenantSql, patientId: string, request: ErasureRequest): Promise<{ receipt: StoredReceipt; repeated: boolean }> {
    if (!(await this.repository.holdOffRecompute(db, request.waitForRecompute))) {
      throw new ProblemException(
        ProblemCode.ServiceUnavailable,
        HttpStatus.SERVICE_UNAVAILABLE,
        "The organization's scores are being recomputed: retry the erasure in a minute",
        undefined,
        { 'retry-after': String(RECOMPUTE_RETRY_AFTER_SECONDS) },
      );
    }
    const patient = await this.repository.lockPatient(db, patientId);
    if (!patient) {
      const earlier = await this.repository.receipt(db, patientId);
      if (earlier) return { receipt: earlier, repeated: true };
      throw ProblemException.notFound(ProblemCode.PatientNotFound, 'No patient with this id in this organization');
    }
    const held = await this.holds.covering(db, [patientId], request.now);
    if (held.length > 0) throw heldProblem(held.map((h) => h.id));

    // Their identifiers in outside systems (read while their key exists): tombstoned with their source key below.
    const identifierKeys = await this.identifiers.tombstoneKeys(db, patientId);
    const deleted: Record<string, number> = {};
    const unlinked: Record<string, number> = {};
    deleted.reengagement_opportunities = await this.opportunities.forgetPatients(db, [patientId]);
    const referrals = await this.repository.referrals(db, patientId);
    deleted.referrals = referrals.deleted;
    unlinked.referrals = referrals.unlinked;
    unlinked.patients_referred_by = await this.repository.unlinkReferredBy(db, patientId);
    deleted.fhir_resources = await this.repository.fhirResources(db, patient.source, patient.externalId);
    deleted.stored_files = await this.repository.exportFiles(db, patientId);
    for (const table of await this.repository.patientTables(db)) {
      deleted[table.table] = (deleted[table.table] ?? 0) + (await this.repository.deleteFrom(db, table, patientId));
    }
    // The rollup last among the tables: its patch reads the (now deleted) records and puts nothing back.
    deleted.engagement_patient_days = await this.rollup.forgetPatients(db, [patientId]);
    deleted.patients = await this.repository.deletePatient(db, patientId);

    await this.tombstones.add(db, [patient, ...identifierKeys], request.now.toISOString().slice(0, 10));
    const receipt: StoredReceipt = {
      id: randomUUID(),
      patientId,
      basis: request.basis,
      erasedAt: request.now,
      recordsDeleted: sortKeys(deleted),
      recordsUnlinked: sortKeys(unlinked),
    };
    // The reason may name the person: under the organization's own key, bound to this receipt.
    const orgKey = await this.keyring.organizationDataKey(db, true);
    const reasonEnc = orgKey.encrypt(request.reason, { table: 'erasure_receipts', column: 'reason_enc', row: receipt.id });
    await this.repository.saveReceipt(db, receipt, reasonEnc, request.actor);
    // Their unwrapped data key leaves this process's memory too (the row is deleted with the patient's rows above).
    this.keyring.forget(db.organizationId, [patientId]);
    return { receipt, repeated: false };
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
