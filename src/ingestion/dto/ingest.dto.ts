import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';
import { RECORD_DOCS } from 'src/ingestion/dto/ingest-records.dto';

/** Records per request. More: a 400 problem naming `records` (the whole batch is refused, nothing is written). */
export const MAX_RECORDS = 5000;

export class IngestRequestDto {
  /** 1 to 5,000 typed records; each is judged on its own (see the per-record results). */
  @ApiProperty({
    type: 'array',
    minItems: 1,
    maxItems: MAX_RECORDS,
    items: {
      oneOf: Object.values(RECORD_DOCS).map((doc) => ({ $ref: getSchemaPath(doc) })),
      discriminator: {
        propertyName: 'record_type',
        mapping: Object.fromEntries(Object.entries(RECORD_DOCS).map(([type, doc]) => [type, getSchemaPath(doc)])),
      },
    },
    example: [
      {
        record_type: 'patient',
        source: 'clinic-ehr',
        external_id: 'pat-1001',
        name: 'Maria Gonzalez',
        email: 'maria@example.com',
        phone: '+1 503 555 0142',
        date_of_birth: '1984-03-09',
        preferred_channel: 'sms',
      },
      {
        record_type: 'appointment',
        source: 'clinic-ehr',
        external_id: 'apt-20261120-1',
        patient_external_id: 'pat-1001',
        starts_at: '2026-11-20T09:30:00Z',
        type: 'Physiotherapy session',
        status: 'completed',
        value: 125.5,
      },
      {
        record_type: 'payment',
        source: 'clinic-ehr',
        external_id: 'pay-20261120-1',
        patient_external_id: 'pat-1001',
        occurred_at: '2026-11-20T10:05:00Z',
        amount: 125.5,
        kind: 'payment',
        status: 'paid',
      },
    ],
  })
  @IsArray({ message: 'records must be an array of records' })
  @ArrayMinSize(1, { message: 'records must contain at least 1 record' })
  @ArrayMaxSize(MAX_RECORDS, { message: `records must contain at most ${MAX_RECORDS} records per request; split the batch` })
  records: unknown[];
}
