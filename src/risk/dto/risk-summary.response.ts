import { ApiProperty } from '@nestjs/swagger';

export class RiskDistribution {
  @ApiProperty({ type: 'integer' })
  low_risk: number;
  @ApiProperty({ type: 'integer' })
  medium_risk: number;
  @ApiProperty({ type: 'integer' })
  high_risk: number;
}

export class RiskTrends {
  @ApiProperty({ type: 'integer' })
  improving: number;
  @ApiProperty({ type: 'integer' })
  stable: number;
  @ApiProperty({ type: 'integer' })
  declining: number;
}

/** Every patient counted once in each breakdown: both sum to total_patients. */
export class RiskSummaryResponse {
  risk_distribution: RiskDistribution;
  @ApiProperty({ type: 'integer' })
  total_patients: number;
  risk_trends: RiskTrends;
  /** When the newest scores behind these figures were computed (now, if no score was ever computed). */
  last_calculated: string;
}
