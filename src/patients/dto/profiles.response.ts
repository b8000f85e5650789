import { ApiProperty } from '@nestjs/swagger';

/** One patient of the list. Money in currency units; scores 0-100. */
export class PatientListItem {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  /** Lifetime value. */
  ltv: number;
  @ApiProperty({ type: 'integer' })
  total_sessions: number;
  /** ISO timestamp; null only when the patient has no appointment history. */
  last_appointment: string | null;
  next_appointment: string | null;
  @ApiProperty({ enum: ['active', 'dormant', 'at_risk'] })
  status: 'active' | 'dormant' | 'at_risk';
  risk_score: number;
  engagement_score: number;
  /** When the patient registered with the clinic. */
  created_at: string;
  /** Latest change of the patient's record or scores. */
  updated_at: string;
}

/** Counts over the whole organization, whatever the filter. */
export class ProfilesSummary {
  @ApiProperty({ type: 'integer' })
  total_patients: number;
  @ApiProperty({ type: 'integer' })
  active_patients: number;
  @ApiProperty({ type: 'integer' })
  dormant_patients: number;
  @ApiProperty({ type: 'integer' })
  at_risk_patients: number;
}

export class ProfilesResponse {
  patients: PatientListItem[];
  /** Patients matching the filter (status and search). */
  @ApiProperty({ type: 'integer' })
  total_count: number;
  /** offset + patients.length < total_count. */
  has_more: boolean;
  summary: ProfilesSummary;
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}
