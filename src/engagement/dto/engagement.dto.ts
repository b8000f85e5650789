import { IsIn, IsOptional, IsString } from 'class-validator';
import { Granularity } from 'src/engagement/domain/engagement-window';

export class EngagementQuery {
  /** First day of the window, `YYYY-MM-DD` in the organization's time zone (default: the Monday 11 weeks before this week's). */
  @IsOptional()
  @IsString()
  from?: string;

  /** Last day of the window (inclusive), `YYYY-MM-DD` in the organization's time zone (default: today). */
  @IsOptional()
  @IsString()
  to?: string;

  /** Bucket size of `engagement_trends` (default `week`; weeks start on Monday). At most 1,000 buckets. */
  @IsOptional()
  @IsIn(Object.values(Granularity))
  granularity?: Granularity;
}
