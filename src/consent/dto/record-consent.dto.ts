import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { Channel, ConsentDecisionKind, ConsentPurpose, ConsentSource } from 'src/records/records.enums';

const PURPOSES = Object.values(ConsentPurpose);
const CHANNELS = Object.values(Channel);
const DECISIONS = Object.values(ConsentDecisionKind);
/** How a decision recorded through this endpoint reached the clinic. */
export const RECORDED_SOURCES = [ConsentSource.FrontDesk, ConsentSource.WebForm, ConsentSource.EhrImport] as const;
const oneOf = (name: string, values: readonly string[]): { message: string } => ({
  message: `${name} must be one of: ${values.join(', ')}`,
});

/** Body of POST /patients/{organizationId}/profile/{patientId}/consents. */
export class RecordConsentDto {
  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, oneOf('purpose', PURPOSES))
  purpose: ConsentPurpose;

  @ApiPropertyOptional({
    enum: CHANNELS,
    nullable: true,
    description: 'One channel (appointment_reminders and marketing only); absent: every channel.',
  })
  @IsOptional()
  @IsIn(CHANNELS, oneOf('channel', CHANNELS))
  channel?: Channel | null;

  @ApiProperty({ enum: DECISIONS })
  @IsIn(DECISIONS, oneOf('decision', DECISIONS))
  decision: ConsentDecisionKind;

  @ApiPropertyOptional({ enum: RECORDED_SOURCES, default: ConsentSource.FrontDesk, description: 'How the decision reached the clinic.' })
  @IsOptional()
  @IsIn(RECORDED_SOURCES, oneOf('source', RECORDED_SOURCES))
  source?: (typeof RECORDED_SOURCES)[number];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'When the patient decided (default: now; not in the future).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'recorded_at must be an ISO 8601 date-time' })
  recorded_at?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'When the decision lapses (after recorded_at).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO 8601 date-time' })
  expires_at?: string;

  @ApiPropertyOptional({ maxLength: 2000, description: 'Free-text evidence: what the patient signed or said. Encrypted at rest.' })
  @IsOptional()
  @IsString({ message: 'evidence must be a string' })
  @Length(1, 2000, { message: 'evidence must be 1 to 2000 characters' })
  evidence?: string;
}
