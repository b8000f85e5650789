import { Module } from '@nestjs/common';
import { ConsentRepository } from 'src/consent/consent.repository';
import { ConsentWriter } from 'src/consent/consent-writer';
import { IngestionBodyLimit } from 'src/ingestion/ingestion-body-limit';
import { IngestionController } from 'src/ingestion/ingestion.controller';
import { IngestionRepository } from 'src/ingestion/ingestion.repository';
import { IngestionService } from 'src/ingestion/ingestion.service';
import { ScoringModule } from 'src/scoring/scoring.module';

/**
 * The write side: batches of typed records from outside systems (POST /ingest/{organizationId}/records). The one way
 * records are written, consent decisions included (the consents endpoint and the FHIR import go through it): hence
 * the consent writer and repository live here and are exported to the consent module.
 */
@Module({
  imports: [ScoringModule],
  controllers: [IngestionController],
  providers: [IngestionService, IngestionRepository, IngestionBodyLimit, ConsentRepository, ConsentWriter],
  exports: [IngestionService, IngestionRepository, ConsentRepository, ConsentWriter],
})
export class IngestionModule {}
