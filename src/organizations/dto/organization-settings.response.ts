import { ApiProperty } from '@nestjs/swagger';

export class OrganizationSettingsResponse {
  /** The organization's scoring overrides, as stored (keys as they were sent). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { activeDays: 30, dormantDays: 90 } })
  scoring: Record<string, number>;

  /** Every scoring setting as the scores use it: the defaults with the overrides applied. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { activeWithinDays: 30, atRiskAfterDays: 90, decayHalfLifeDays: 180 } })
  effective_scoring: Record<string, number>;
}
