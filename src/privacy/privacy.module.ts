import { Module } from '@nestjs/common';
import { DeidentifiedExportController } from 'src/privacy/deidentified-export.controller';
import { DeidentifiedExportJob } from 'src/privacy/deidentified-export.job';
import { DeidentifiedExportRepository } from 'src/privacy/deidentified-export.repository';
import { DeidentifiedExportService } from 'src/privacy/deidentified-export.service';

/** De-identified analytics (docs/privacy.md): the `deidentified-export` job and its endpoints. */
@Module({
  controllers: [DeidentifiedExportController],
  providers: [DeidentifiedExportRepository, DeidentifiedExportJob, DeidentifiedExportService],
})
export class PrivacyModule {}
