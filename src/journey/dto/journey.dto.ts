import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { integer, partSchema } from 'src/common/validation/request-schemas';

export class JourneyQuery {
  /** How many touchpoints to return, newest first (1..500, default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  touchpoint_limit?: number;
}

/** JourneyQuery as the route schema Fastify checks (src/common/validation/request-schemas.ts). */
export const JOURNEY_QUERY_SCHEMA = partSchema(JourneyQuery, { touchpoint_limit: integer(1, 500) });
