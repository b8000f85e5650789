import { Module } from '@nestjs/common';
import { BulkExportJob } from 'src/privacy/export/bulk-export.job';
import { BulkExportService } from 'src/privacy/export/bulk-export.service';
import { ExportRecordsRepository } from 'src/privacy/export/export-records.repository';
import { ExportsController } from 'src/privacy/export/exports.controller';
import { PatientExportController } from 'src/privacy/export/patient-export.controller';
import { PatientExportService } from 'src/privacy/export/patient-export.service';

/**
 * Patients' rights and the data lifecycle (docs/privacy.md): one patient's record (right of access) and the bulk
 * export (portability), both `privacy:manage` and audited.
 */
@Module({
  controllers: [PatientExportController, ExportsController],
  providers: [ExportRecordsRepository, PatientExportService, BulkExportService, BulkExportJob],
})
export class PrivacyModule {}
