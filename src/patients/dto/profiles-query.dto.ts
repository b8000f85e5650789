import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { integer, oneOf as schemaOneOf, partSchema } from 'src/common/validation/request-schemas';
import { PROFILE_SORTS, ProfileSort, SORT_ORDERS, SortOrder, STATUS_FILTERS, StatusFilter } from 'src/patients/profile-list';

const oneOf = (name: string, values: readonly string[]): { message: string } => ({ message: `${name} must be one of: ${values.join(', ')}` });

/** Query of GET /patients/{organizationId}/profiles. */
export class ProfilesQueryDto {
  /** Patients per page, 1 to 1000 (default 100). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer from 1 to 1000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000' })
  @Max(1000, { message: 'limit must be an integer from 1 to 1000' })
  limit?: number;

  /** Patients to skip (default 0). Prefer `cursor` for deep pages. */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'offset must be an integer of at least 0' })
  @Min(0, { message: 'offset must be an integer of at least 0' })
  @Max(100_000_000, { message: 'offset must be an integer from 0 to 100000000' })
  offset?: number;

  /** Status filter (default `all`). */
  @ApiPropertyOptional({ enum: STATUS_FILTERS, default: 'all' })
  @IsOptional()
  @IsIn(STATUS_FILTERS, oneOf('status', STATUS_FILTERS))
  status?: StatusFilter;

  /** Sort key (default `name`); ties are broken by patient id. Patients without a last appointment sort last. */
  @ApiPropertyOptional({ enum: PROFILE_SORTS, default: 'name' })
  @IsOptional()
  @IsIn(PROFILE_SORTS, oneOf('sort', PROFILE_SORTS))
  sort?: ProfileSort;

  /** Direction (default `asc` for name, `desc` for the others). */
  @ApiPropertyOptional({ enum: SORT_ORDERS })
  @IsOptional()
  @IsIn(SORT_ORDERS, oneOf('order', SORT_ORDERS))
  order?: SortOrder;

  /** Case-insensitive name prefix, 1 to 100 characters. */
  @IsOptional()
  @IsString({ message: 'search must be a string of 1 to 100 characters' })
  @Length(1, 100, { message: 'search must be a string of 1 to 100 characters' })
  search?: string;

  /** Opaque keyset cursor: the `next_cursor` of the previous page (use instead of `offset` for deep pages). */
  @IsOptional()
  @IsString({ message: 'cursor must be a next_cursor value returned by this endpoint' })
  @Matches(/^[A-Za-z0-9_-]{1,1200}$/, { message: 'cursor must be a next_cursor value returned by this endpoint, unchanged' })
  cursor?: string;
}

/** ProfilesQueryDto as the route schema Fastify checks (src/common/validation/request-schemas.ts). */
export const PROFILES_QUERY_SCHEMA = partSchema(ProfilesQueryDto, {
  limit: integer(1, 1000),
  offset: integer(0, 100_000_000),
  status: schemaOneOf(STATUS_FILTERS),
  sort: schemaOneOf(PROFILE_SORTS),
  order: schemaOneOf(SORT_ORDERS),
  // class-validator's Length counts characters its own way (surrogate pairs, variation selectors): a search always
  // takes the class-validator path rather than a schema that might count differently.
  search: { not: {} },
  cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,1200}$' },
});
