import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ProblemException } from 'src/common/problem/problem';
import { schemaValidatedAs, toValidatedInstance } from 'src/common/validation/request-schemas';

class ValidationErrors extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('validation failed');
  }
}

const LOCATION: Record<ArgumentMetadata['type'], FieldError['in']> = { body: 'body', query: 'query', param: 'path', custom: undefined };

function flatten(errors: ValidationError[], where: FieldError['in'], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    // One entry per distinct message: the decorators of one rule often share it (IsInt, Min and Max all say
    // "limit must be an integer from 1 to 1000"), and a client should read it once.
    for (const message of new Set(Object.values(e.constraints ?? {}))) out.push({ in: where, field, message });
    if (e.children?.length) out.push(...flatten(e.children, where, field));
  }
  return out;
}

/**
 * The global ValidationPipe (whitelist, forbidNonWhitelisted, transform) answering a 400 problem that lists each
 * bad field with where it was (query, path, body) and what is expected.
 *
 * A path or query that its route's Fastify schema already accepted for this very DTO (src/common/validation/
 * request-schemas.ts: the hot read routes) is only turned into the DTO's instance, as class-transformer would: the
 * schema converted its numbers and refuses whatever the DTO refuses. Anything else, refusals of the schema included,
 * goes through class-validator, which writes the 400.
 */
@Injectable()
export class ProblemValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationErrors(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    if (metatype !== undefined && schemaValidatedAs(value) === metatype) return toValidatedInstance(value as object);
    try {
      return await super.transform(value, metadata);
    } catch (err) {
      if (!(err instanceof ValidationErrors)) throw err;
      const errors = flatten(err.errors, LOCATION[metadata.type]);
      const detail = errors.map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`)).join('; ');
      throw ProblemException.badRequest(detail || 'The request is invalid', errors);
    }
  }
}
