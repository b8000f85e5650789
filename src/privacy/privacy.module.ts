import { Module } from '@nestjs/common';
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
 * (portability), both `privacy:manage` and audited; and de-identified analytics (the `deidentified-export` job).
 */
@Module({
  controllers: [PatientExportController, ExportsController, DeidentifiedExportController],
  providers: [
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
