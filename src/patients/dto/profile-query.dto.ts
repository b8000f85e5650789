import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { integer, partSchema } from 'src/common/validation/request-schemas';

/** Query of GET /patients/{organizationId}/profile/{patientId}. */
export class ProfileQueryDto {
  /** Appointments in `appointment_history`, newest first: 1 to 500 (default 50). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'history_limit must be an integer from 1 to 500' })
  @Min(1, { message: 'history_limit must be an integer from 1 to 500' })
  @Max(500, { message: 'history_limit must be an integer from 1 to 500' })
  history_limit?: number;
}

/** ProfileQueryDto as the route schema Fastify checks (src/common/validation/request-schemas.ts). */
export const PROFILE_QUERY_SCHEMA = partSchema(ProfileQueryDto, { history_limit: integer(1, 500) });
