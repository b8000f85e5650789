import { ApiProperty } from '@nestjs/swagger';
import { Channel, ConsentDecisionKind, ConsentPurpose, ConsentSource } from 'src/records/records.enums';

export class ConsentDecisionResponse {
  id: string;
  @ApiProperty({ enum: Object.values(ConsentPurpose) })
  purpose: ConsentPurpose;
  @ApiProperty({
    enum: [...Object.values(Channel), null],
    type: String,
    nullable: true,
    description: 'null: every channel (or a purpose that contacts no one).',
  })
  channel: Channel | null;
  @ApiProperty({ enum: Object.values(ConsentDecisionKind) })
  decision: ConsentDecisionKind;
  /** When the patient decided (ISO 8601). */
  recorded_at: string;
  @ApiProperty({
    enum: Object.values(ConsentSource),
    description: 'How the decision reached the clinic; `migration`: converted from the former consent flags.',
  })
  source: ConsentSource;
  /** Who recorded it: `user:<id>`, `api_key:<id>`, the outside system's user, or `migration`. */
  recorded_by: string;
  @ApiProperty({ type: String, nullable: true, description: 'When the decision lapses (ISO 8601).' })
  expires_at: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Free-text evidence (encrypted at rest).' })
  evidence: string | null;
  /** The outside system the decision came from (the ingestion key, with `external_id`). */
  record_source: string;
  external_id: string;
}

export class EffectiveConsentResponse {
  @ApiProperty({ enum: Object.values(ConsentPurpose) })
  purpose: ConsentPurpose;
  @ApiProperty({
    enum: [...Object.values(Channel), null],
    type: String,
    nullable: true,
    description: 'The channel (appointment_reminders and marketing); null for the other purposes.',
  })
  channel: Channel | null;
  /** Whether the purpose (on this channel) is consented to now. */
  granted: boolean;
  @ApiProperty({
    enum: ['granted', 'withdrawn', 'denied', 'expired', 'not_recorded'],
    description: 'The decision that counts, `expired` when it lapsed, `not_recorded` when there is none.',
  })
  state: 'granted' | 'withdrawn' | 'denied' | 'expired' | 'not_recorded';
  @ApiProperty({ type: String, nullable: true, description: 'The id of the decision that counts.' })
  decision_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  expires_at: string | null;
}

export class ConsentsResponse {
  patient_id: string;
  /** The effective state per purpose, and per channel for appointment_reminders and marketing. */
  @ApiProperty({ type: [EffectiveConsentResponse] })
  effective: EffectiveConsentResponse[];
  /** Every decision, newest first. */
  @ApiProperty({ type: [ConsentDecisionResponse] })
  history: ConsentDecisionResponse[];
}
