import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/** One bad field of a request. */
@ApiSchema({ name: 'FieldError' })
export class FieldErrorResponse {
  /** Where the value was. */
  @ApiPropertyOptional({ enum: ['query', 'path', 'body', 'header'] })
  in?: 'query' | 'path' | 'body' | 'header';
  /** The field's name (a dotted path for nested body fields). */
  field: string;
  /** What was wrong and what is expected. */
  message: string;
}

/** RFC 9457 problem details: the body of every error answer (`application/problem+json`). */
@ApiSchema({ name: 'Problem' })
export class ProblemResponse {
  /** A URI naming the kind of problem, e.g. `https://patient-journey.dev/problems/permission-denied`. */
  type: string;
  /** The kind of problem, for people. */
  title: string;
  /** The HTTP status code. */
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599 })
  status: number;
  /** What went wrong with this request. Never carries patient data. */
  detail: string;
  /** The path that was called. */
  instance?: string;
  /** The bad fields of a 400 answer, each with where it was and what is expected. */
  errors?: FieldErrorResponse[];
  /** The permission the caller lacks (a 403 `permission-denied`). */
  permission?: string;
  /** The legal holds in force that cover the patient (a 409 `legal-hold`: release them before erasing). */
  @ApiProperty({ type: [String], format: 'uuid', required: false })
  hold_ids?: string[];
}
