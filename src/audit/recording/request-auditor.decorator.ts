import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { REQUEST_AUDIT } from 'src/audit/recording/audit-on-success.interceptor';

/**
 * The RequestAudit of a `@Audited({ ..., writesOwnAudit: true })` route, for recording its change inside the
 * transaction that makes it: `ingest(@Body() b: Batch, @RequestAuditor() audit: RequestAudit)`.
 */
export const RequestAuditor = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestAudit => {
  const audit = ctx.switchToHttp().getRequest<{ [REQUEST_AUDIT]?: RequestAudit }>()[REQUEST_AUDIT];
  if (!audit) throw new Error('@RequestAuditor() needs @Audited({ writesOwnAudit: true }) on the route');
  return audit;
});
