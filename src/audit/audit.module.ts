import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditEventsController } from 'src/audit/audit-events.controller';
import { AuditOnDenialHook } from 'src/audit/recording/audit-on-denial.hook';
import { AuditOnSuccessInterceptor } from 'src/audit/recording/audit-on-success.interceptor';
import { TrailPartitionsService } from 'src/audit/trail/trail-partitions.service';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { AuditEventsService } from 'src/audit/audit-events.service';
import { TrailWriter } from 'src/audit/trail/trail-writer';

/**
 * The HIPAA audit trail (docs/audit.md). Registers the global AuditOnSuccessInterceptor (before any cache interceptor:
 * AppModule imports this module ahead of the feature modules) and the onSend hook for denied calls; exports
 * TrailWriter for code that records outside a request, and TrailRepository (the retention sweep archives and retires).
 */
@Module({
  controllers: [AuditEventsController],
  providers: [
    TrailRepository,
    TrailWriter,
    RequestAuditRecorder,
    AuditEventsService,
    AuditOnDenialHook,
    TrailPartitionsService,
    { provide: APP_INTERCEPTOR, useClass: AuditOnSuccessInterceptor },
  ],
  exports: [TrailWriter, RequestAuditRecorder, TrailRepository],
})
export class AuditModule {}
