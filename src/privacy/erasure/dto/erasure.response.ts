import { ApiProperty } from '@nestjs/swagger';

/** The receipt of an erasure: no PHI, only the patient's id and what went. */
export class ErasureReceiptResponse {
  /** The erasure's id. */
  @ApiProperty({ format: 'uuid' })
  erasure_id: string;
  /** The erased patient's id. */
  @ApiProperty({ format: 'uuid' })
  patient_id: string;
  @ApiProperty({ enum: ['patient_request', 'retention', 'other'] })
  basis: 'patient_request' | 'retention' | 'other';
  /** When the patient was erased (the first erasure's time when asked again). */
  @ApiProperty({ format: 'date-time' })
  erased_at: string;
  /** Rows deleted, per kind (table): `patients`, `appointments`, `payments`... (zero for kinds the patient had none of). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  records_deleted: Record<string, number>;
  /**
   * Rows of others kept without the erased person: `referrals` (another patient's referral of them) and
   * `patients_referred_by` (patients they had referred).
   */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  records_unlinked: Record<string, number>;
}
