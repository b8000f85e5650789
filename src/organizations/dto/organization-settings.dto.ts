import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';

export class UpdateOrganizationSettingsDto {
  /**
   * Overrides of the scoring defaults (docs/scoring.md, "Settings and defaults"), by name or alias (`activeDays`,
   * `dormantDays`/`atRiskDays`, `halfLifeDays`); every value a number. Replaces the stored overrides as a whole
   * (`{}` restores every default). Refused with 400 naming the key: an unknown key, a non-number, a window or step
   * of 0 or less, `activeDays` not below `dormantDays`, `riskMediumFrom` not below `riskHighFrom`, ...
   */
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { activeDays: 30, dormantDays: 90, halfLifeDays: 180 },
  })
  @IsObject()
  scoring: Record<string, unknown>;
}
