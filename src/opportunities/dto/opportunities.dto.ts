import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { integer, oneOf, partSchema } from 'src/common/validation/request-schemas';
import { OpportunityPriority, OpportunityType } from 'src/opportunities/opportunities.enums';

export class OpportunitiesQuery {
  /** Only this opportunity type. */
  @IsOptional()
  @IsIn(Object.values(OpportunityType))
  type?: OpportunityType;

  /** Only this priority. */
  @IsOptional()
  @IsIn(Object.values(OpportunityPriority))
  priority?: OpportunityPriority;

  /** Page size (1..1000, default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** Opportunities to skip (default 0). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  offset?: number;
}

/** OpportunitiesQuery as the route schema Fastify checks (src/common/validation/request-schemas.ts). */
export const OPPORTUNITIES_QUERY_SCHEMA = partSchema(OpportunitiesQuery, {
  type: oneOf(Object.values(OpportunityType)),
  priority: oneOf(Object.values(OpportunityPriority)),
  limit: integer(1, 1000),
  offset: integer(0, 10_000_000),
});
