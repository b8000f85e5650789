import { Module } from '@nestjs/common';
import { FhirBundleService } from 'src/fhir-import/fhir-bundle.service';
import { FhirHttp } from 'src/fhir-import/fhir-http';
import { FhirImportController } from 'src/fhir-import/fhir-import.controller';
import { FhirImportRepository } from 'src/fhir-import/fhir-import.repository';
import { FhirImportService } from 'src/fhir-import/fhir-import.service';
import { FhirImporter } from 'src/fhir-import/fhir-importer';
import { FhirNdjsonImport } from 'src/fhir-import/fhir-ndjson-import';
import { AuditModule } from 'src/audit/audit.module';
import { IngestionModule } from 'src/ingestion/ingestion.module';

/** FHIR R4 in: transaction/batch Bundles and Bulk Data NDJSON imports (a job), mapped onto the ingestion records. */
@Module({
  imports: [IngestionModule, AuditModule],
  controllers: [FhirImportController],
  providers: [FhirHttp, FhirImporter, FhirImportRepository, FhirBundleService, FhirNdjsonImport, FhirImportService],
  exports: [FhirNdjsonImport, FhirImporter],
})
export class FhirImportModule {}
