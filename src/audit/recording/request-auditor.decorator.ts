import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { EARLY_AUDIT, type EarlyAuditRecord, REQUEST_AUDIT } from 'src/audit/recording/audit-on-success.interceptor';

/**
 * The RequestAudit of a `@Audited({ ..., writesOwnAudit: true })` route, for recording its change inside the
 * transaction that makes it: `ingest(@Body() b: Batch, @RequestAuditor() audit: RequestAudit)`.
 */
export const RequestAuditor = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestAudit => {
  const audit = ctx.switchToHttp().getRequest<{ [REQUEST_AUDIT]?: RequestAudit }>()[REQUEST_AUDIT];
  if (!audit) throw new Error('@RequestAuditor() needs @Audited({ writesOwnAudit: true }) on the route');
  return audit;
});

/**
 * The early record of a `@Audited({ ..., recordsEarly: true })` route: call it with the answer's patients as soon as
 * they are known (a list page's, once its rows are read), and the success event is written while the answer is built.
 * Without `recordsEarly` (or without audit options) it does nothing: the interceptor records after the handler, as
 * for any audited route.
 */
export const EarlyAudit = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): EarlyAuditRecord =>
    ctx.switchToHttp().getRequest<{ [EARLY_AUDIT]?: EarlyAuditRecord }>()[EARLY_AUDIT] ?? noEarlyRecord,
);

const noEarlyRecord: EarlyAuditRecord = () => undefined;
