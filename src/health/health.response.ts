import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

/** One checked dependency. */
export class HealthIndicatorResponse {
  @ApiProperty({ enum: ['up', 'down'] })
  status: 'up' | 'down';
}

/** @nestjs/terminus's health check result, as /health/ready answers it when the database answers. */
export class ReadinessResponse {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
  /** The dependencies that are up, by name (`database`). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicatorResponse' } })
  info?: Record<string, HealthIndicatorResponse>;
  /** The dependencies that are down (empty when ready). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicatorResponse' } })
  error?: Record<string, HealthIndicatorResponse>;
  /** Every dependency checked. */
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicatorResponse' } })
  details: Record<string, HealthIndicatorResponse>;
}
