import { ApiProperty } from '@nestjs/swagger';

export class EngagementTrendResponse {
  /** First day of the bucket, `YYYY-MM-DD` (organization time zone). */
  date: string;
  /** Patients whose first visit ever falls in the bucket. */
  @ApiProperty({ type: 'integer' })
  new_patients: number;
  /** Patients with a visit in the bucket who had visited before it. */
  @ApiProperty({ type: 'integer' })
  returning_patients: number;
  /** Mean engagement score (0..100) of the patients seen in the bucket; 0 when nobody was seen. */
  engagement_score: number;
}

export class SatisfactionDistributionResponse {
  @ApiProperty({ type: 'integer' })
  very_satisfied: number;
  @ApiProperty({ type: 'integer' })
  satisfied: number;
  @ApiProperty({ type: 'integer' })
  neutral: number;
  @ApiProperty({ type: 'integer' })
  dissatisfied: number;
  @ApiProperty({ type: 'integer' })
  very_dissatisfied: number;
}

export class SatisfactionMetricsResponse {
  /** Mean 1..5 rating of the window's survey responses; null without any. */
  @ApiProperty({ type: Number, nullable: true })
  avg_satisfaction: number | null;
  satisfaction_distribution: SatisfactionDistributionResponse;
  /** % promoters (9-10) − % detractors (0-6); null without any answer. */
  @ApiProperty({ type: Number, nullable: true })
  nps_score: number | null;
}

export class EngagementOverviewBody {
  @ApiProperty({ type: 'integer' })
  total_patients: number;
  /** Patients whose first visit is in the current calendar month (organization time zone). */
  @ApiProperty({ type: 'integer' })
  new_patients_this_month: number;
  /** Patients with a visit in the window who had visited before it. */
  @ApiProperty({ type: 'integer' })
  returning_patients: number;
  @ApiProperty({ type: [EngagementTrendResponse] })
  engagement_trends: EngagementTrendResponse[];
  satisfaction_metrics: SatisfactionMetricsResponse;
}

export class EngagementOverviewResponse {
  engagement_overview: EngagementOverviewBody;
}
