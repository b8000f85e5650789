import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('survey_responses')
// Covering: the engagement overview counts a window's answers from this index alone (index-only scan).
@Index('idx_survey_responses_submitted_at_answers', ['organizationId', 'submittedAt', 'satisfaction', 'nps'])
@Index('idx_survey_responses_organization_id_patient_id', ['organizationId', 'patientId'])
@Check('ck_survey_responses_satisfaction', 'satisfaction BETWEEN 1 AND 5')
@Check('ck_survey_responses_nps', 'nps BETWEEN 0 AND 10')
export class SurveyResponse extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt: Date;

  /** 1..5, null when not asked/answered. */
  @Column({ name: 'satisfaction', type: 'smallint', nullable: true })
  satisfaction: number | null;

  /** Net promoter score answer 0..10, null when not asked/answered. */
  @Column({ name: 'nps', type: 'smallint', nullable: true })
  nps: number | null;

  @Column({ name: 'complaint', type: 'boolean', default: false })
  complaint: boolean;

  /** Encrypted (`v1:<base64>`). */
  @Column({ name: 'comment_enc', type: 'text', nullable: true })
  comment: string | null;
}
