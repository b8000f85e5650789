import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { ConsentRepository, NewDecisionRow } from 'src/consent/consent.repository';
import { consentProjection } from 'src/consent/domain/consent-policy';
import { ConsentDecisionKind, ConsentPurpose, ConsentSource } from 'src/records/records.enums';

/** A patient record's consent flags, as sent (null: not given). */
export interface PatientConsentFlags {
  patientId: string;
  source: string;
  created: boolean;
  marketing: boolean | null;
  reminders: boolean | null;
}

/**
 * The ingestion path's consent step (src/ingestion/ingestion.service.ts calls it in the batch's transaction; the
 * ingestion path is the one way a decision is written): turns a patient record's consent flags into decisions, and
 * keeps the effective grants on the patient (`consentProjection`, the one policy).
 */
@Injectable()
export class ConsentWriter {
  constructor(private readonly repository: ConsentRepository) {}

  /**
   * A flag given in a patient record that differs from the patient's current state becomes a decision (`granted`;
   * `withdrawn` when it was granted, `denied` when it never was), recorded now by the writer with origin `ingestion`.
   * A new patient without `appointment_reminders` gets reminders granted (the record's documented default). The same
   * record sent again finds the state it asks for and writes nothing. Returns the patients with new decisions.
   */
  async decisionsFromPatientFlags(db: TenantSql, items: readonly PatientConsentFlags[], now: Date, actor: string): Promise<string[]> {
    if (items.length === 0) return [];
    const current = await this.repository.flags(
      db,
      items.filter((i) => !i.created).map((i) => i.patientId),
    );
    const rows: NewDecisionRow[] = [];
    for (const item of items) {
      const had = item.created ? { marketing: false, reminders: false } : current.get(item.patientId);
      if (!had) continue;
      const wanted: [ConsentPurpose, boolean | null, boolean][] = [
        [ConsentPurpose.Marketing, item.marketing, had.marketing],
        [ConsentPurpose.AppointmentReminders, item.created ? (item.reminders ?? true) : item.reminders, had.reminders],
      ];
      for (const [purpose, want, has] of wanted) {
        // A new patient's given flags are all recorded (false: denied); an existing patient's only when they change.
        if (want === null || (!item.created && want === has)) continue;
        rows.push({
          source: item.source,
          externalId: `patient-flag:${randomUUID()}`,
          patientId: item.patientId,
          purpose,
          decision: want ? ConsentDecisionKind.Granted : has ? ConsentDecisionKind.Withdrawn : ConsentDecisionKind.Denied,
          recordedAt: now,
          origin: ConsentSource.Ingestion,
          recordedBy: actor,
        });
      }
    }
    await this.repository.insertDecisions(db, rows);
    return [...new Set(rows.map((r) => r.patientId))];
  }

  /** Computes the patients' effective grants at `now` and stores them; returns the patients whose grants changed. */
  async project(db: TenantSql, patientIds: readonly string[], now: Date): Promise<string[]> {
    const ids = [...new Set(patientIds)].filter((id) => id !== '');
    if (ids.length === 0) return [];
    const byPatient = await this.repository.factsByPatient(db, ids);
    return this.repository.saveProjection(
      db,
      ids.map((patientId) => ({ patientId, ...consentProjection(byPatient.get(patientId) ?? [], now) })),
    );
  }
}
