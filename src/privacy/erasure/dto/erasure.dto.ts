import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';

export const ERASURE_BASES = ['patient_request', 'retention', 'other'] as const;

export class ErasureBody {
  /** Why the patient is erased (kept encrypted with the receipt, never shown in logs; do not put the person's name here). */
  @IsString({ message: 'reason must be a string' })
  @Length(1, 1000, { message: 'reason must be 1 to 1000 characters' })
  reason: string;

  /** `patient_request` (the person asked: GDPR art. 17 and the like), `retention` (the retention policy), or `other`. */
  @IsIn(ERASURE_BASES, { message: `basis must be one of: ${ERASURE_BASES.join(', ')}` })
  @ApiProperty({ enum: ERASURE_BASES })
  basis: (typeof ERASURE_BASES)[number];
}
