import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class JourneyQuery {
  /** How many touchpoints to return, newest first (1..500, default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  touchpoint_limit?: number;
}
