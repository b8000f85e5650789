import { ApiProperty } from '@nestjs/swagger';
import { OpportunityPriority, OpportunityType } from 'src/opportunities/opportunities.enums';

export class OpportunityResponse {
  patient_id: string;
  patient_name: string;
  @ApiProperty({ enum: Object.values(OpportunityType) })
  opportunity_type: OpportunityType;
  @ApiProperty({ enum: Object.values(OpportunityPriority) })
  priority: OpportunityPriority;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  last_contact: string | null;
  /** What to do: the channel to use and what to offer or remind of, within the patient's consent. */
  suggested_action: string;
  /** Expected value of the patient's return over the next 12 months, in currency units. */
  estimated_value: number;
  /** Chance the patient returns when contacted, 0..1 (scoring engine). */
  success_probability: number;
}

export class OpportunitiesResponse {
  /** Best first: by `estimated_value × success_probability`. */
  @ApiProperty({ type: [OpportunityResponse] })
  opportunities: OpportunityResponse[];
  /** All matching opportunities, not only this page. */
  @ApiProperty({ type: 'integer' })
  total_opportunities: number;
  /** Sum of `estimated_value` over all matching opportunities. */
  potential_revenue: number;
}
