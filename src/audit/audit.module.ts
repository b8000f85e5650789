import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from 'src/audit/audit.controller';
import { AuditHooks } from 'src/audit/audit-hooks';
import { AuditInterceptor } from 'src/audit/audit.interceptor';
import { AuditPartitionsService } from 'src/audit/audit-partitions.service';
import { AuditRecorder } from 'src/audit/audit-recorder';
import { AuditRepository } from 'src/audit/audit.repository';
import { AuditService } from 'src/audit/audit.service';
import { AuditWriter } from 'src/audit/audit-writer';

/**
 * The HIPAA audit trail (docs/audit.md). Registers the global AuditInterceptor (before any cache interceptor:
 * AppModule imports this module ahead of the feature modules) and the onSend hook for denied calls; exports
 * AuditWriter for code that records outside a request.
 */
@Module({
  controllers: [AuditController],
  providers: [
    AuditRepository,
    AuditWriter,
    AuditRecorder,
    AuditService,
    AuditHooks,
    AuditPartitionsService,
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [AuditWriter, AuditRecorder],
})
export class AuditModule {}
