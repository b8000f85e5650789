import { Module } from '@nestjs/common';
import { IngestionBodyLimit } from 'src/ingestion/ingestion-body-limit';
import { IngestionController } from 'src/ingestion/ingestion.controller';
import { IngestionRepository } from 'src/ingestion/ingestion.repository';
import { IngestionService } from 'src/ingestion/ingestion.service';
import { ScoringModule } from 'src/scoring/scoring.module';

/** The write side: batches of typed records from outside systems (POST /ingest/{organizationId}/records). */
@Module({
  imports: [ScoringModule],
  controllers: [IngestionController],
  providers: [IngestionService, IngestionRepository, IngestionBodyLimit],
  exports: [IngestionService, IngestionRepository],
})
export class IngestionModule {}
