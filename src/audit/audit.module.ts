import { Global, Module, OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { AuditEventsController } from 'src/audit/audit-events.controller';
import { AuditOnDenialHook } from 'src/audit/recording/audit-on-denial.hook';
import { auditInterceptionProblems } from 'src/audit/recording/audit-on-success.interceptor';
import { TrailPartitionsService } from 'src/audit/trail/trail-partitions.service';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { AuditEventsService } from 'src/audit/audit-events.service';
import { TrailWriter } from 'src/audit/trail/trail-writer';

/**
 * The HIPAA audit trail (docs/audit.md). The AuditOnSuccessInterceptor is on each audited route (`@Authorized` with
 * `audit` puts it there, first among the route's interceptors; it injects RequestAuditRecorder, hence a global module:
 * every feature module's audited controller resolves it), checked at start-up (`auditInterceptionProblems`); the
 * onSend hook records denied calls. Exports TrailWriter for code that records outside a request, and TrailRepository
 * (the retention sweep archives and retires).
 */
@Global()
@Module({
  controllers: [AuditEventsController],
  providers: [
    TrailRepository,
    TrailWriter,
    RequestAuditRecorder,
    AuditEventsService,
    AuditOnDenialHook,
    TrailPartitionsService,
  ],
  exports: [TrailWriter, RequestAuditRecorder, TrailRepository],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
  ) {}

  /** Refuses to start when an audited route's answer could leave unrecorded (an interceptor running before the audit's). */
  onModuleInit(): void {
    const controllers = [...this.modules.values()].flatMap((m) => [...m.controllers.values()].map((c) => c.metatype as Function));
    const globals = this.config.getGlobalInterceptors().length + this.config.getGlobalRequestInterceptors().length;
    const problems = auditInterceptionProblems(controllers, globals);
    if (problems.length > 0) throw new Error(`Audited routes would answer before their audit event:\n${problems.join('\n')}`);
  }
}
