import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Channel, ConsentDecisionKind, ConsentPurpose, ConsentSource } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

/**
 * One consent decision of a patient (docs/privacy.md, "Consent"): never updated (a trigger refuses it), a newer
 * decision supersedes. Written only through the ingestion path (`consent` records; the consents endpoint and the
 * patient record's consent flags go through it too). `(source, external_id)` is the outside system's key of the
 * decision, as for every record; `origin` is how it reached the clinic (the API's `source`).
 */
@PatientRecordTable('consent_decisions')
@Index('idx_consent_decisions_organization_id_patient_id_recorded_at', ['organizationId', 'patientId', 'recordedAt'])
@Check('ck_consent_decisions_purpose', inCheck('purpose', ConsentPurpose))
@Check('ck_consent_decisions_channel', `channel IS NULL OR ${inCheck('channel', Channel)}`)
@Check('ck_consent_decisions_decision', inCheck('decision', ConsentDecisionKind))
@Check('ck_consent_decisions_origin', inCheck('origin', ConsentSource))
export class ConsentDecision extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'purpose', type: 'varchar', length: 32 })
  purpose: ConsentPurpose;

  /** null: every channel (and the only value for the purposes that contact no one). */
  @Column({ name: 'channel', type: 'varchar', length: 16, nullable: true })
  channel: Channel | null;

  @Column({ name: 'decision', type: 'varchar', length: 16 })
  decision: ConsentDecisionKind;

  /** When the patient decided (not when it was stored: `created_at`). */
  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt: Date;

  @Column({ name: 'origin', type: 'varchar', length: 16 })
  origin: ConsentSource;

  /** Who recorded it: `user:<id>`, `api_key:<id>`, or the outside system's name for its user. */
  @Column({ name: 'recorded_by', type: 'varchar', length: 200 })
  recordedBy: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  /** Encrypted free text (`v1:<base64>`): what the patient signed or said. */
  @Column({ name: 'evidence_enc', type: 'text', nullable: true })
  evidence: string | null;
}
