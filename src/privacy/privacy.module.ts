import { Module } from '@nestjs/common';
import { AuditModule } from 'src/audit/audit.module';
import { EngagementModule } from 'src/engagement/engagement.module';
import { OpportunitiesModule } from 'src/opportunities/opportunities.module';
import { ErasureController } from 'src/privacy/erasure/erasure.controller';
import { ErasureRepository } from 'src/privacy/erasure/erasure.repository';
import { ErasureService } from 'src/privacy/erasure/erasure.service';
import { LegalHoldsController } from 'src/privacy/erasure/legal-holds.controller';
import { LegalHoldsRepository } from 'src/privacy/erasure/legal-holds.repository';
import { LegalHoldsService } from 'src/privacy/erasure/legal-holds.service';
import { PatientEraser } from 'src/privacy/erasure/patient-eraser';
import { RetentionSweep } from 'src/privacy/retention/retention-sweep';
import { RetentionSweepJob } from 'src/privacy/retention/retention-sweep.job';
import { RetentionController } from 'src/privacy/retention/retention.controller';
import { AuditArchivesController } from 'src/privacy/retention/audit-archives.controller';
import { AuditArchivesService } from 'src/privacy/retention/audit-archives.service';
import { RetentionRepository } from 'src/privacy/retention/retention.repository';
import { RetentionService } from 'src/privacy/retention/retention.service';
import { ScoringModule } from 'src/scoring/scoring.module';
import { DeidentifiedExportController } from 'src/privacy/deidentified-export.controller';
import { DeidentifiedExportJob } from 'src/privacy/deidentified-export.job';
import { DeidentifiedExportRepository } from 'src/privacy/deidentified-export.repository';
import { DeidentifiedExportService } from 'src/privacy/deidentified-export.service';
import { BulkExportJob } from 'src/privacy/export/bulk-export.job';
import { BulkExportService } from 'src/privacy/export/bulk-export.service';
import { ExportRecordsRepository } from 'src/privacy/export/export-records.repository';
import { ExportsController } from 'src/privacy/export/exports.controller';
import { PatientExportController } from 'src/privacy/export/patient-export.controller';
import { PatientExportService } from 'src/privacy/export/patient-export.service';

/**
 * Patients' rights and the data lifecycle (docs/privacy.md): one patient's record (right of access), the bulk export
 * (portability), erasure (PatientEraser, with tombstones and receipts), legal holds, the retention policy and its
 * sweep (the `retention-sweep` job), all `privacy:manage` and audited; and de-identified analytics (the `deidentified-export` job).
 */
@Module({
  imports: [AuditModule, ScoringModule, OpportunitiesModule, EngagementModule],
  controllers: [PatientExportController, ExportsController, DeidentifiedExportController, ErasureController, LegalHoldsController, RetentionController, AuditArchivesController],
  providers: [
    ErasureRepository,
    LegalHoldsRepository,
    PatientEraser,
    ErasureService,
    LegalHoldsService,
    RetentionRepository,
    RetentionService,
    AuditArchivesService,
    RetentionSweep,
    RetentionSweepJob,
    ExportRecordsRepository,
    PatientExportService,
    BulkExportService,
    BulkExportJob,
    DeidentifiedExportRepository,
    DeidentifiedExportJob,
    DeidentifiedExportService,
  ],
})
export class PrivacyModule {}
