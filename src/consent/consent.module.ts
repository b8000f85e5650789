import { Module } from '@nestjs/common';
import { ConsentController } from 'src/consent/consent.controller';
import { ConsentExpirySweep } from 'src/consent/consent-expiry.sweep';
import { ConsentService } from 'src/consent/consent.service';
import { IngestionModule } from 'src/ingestion/ingestion.module';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { ScoringModule } from 'src/scoring/scoring.module';

/** Patients' consent (docs/privacy.md, "Consent"): the history and effective state, new decisions, the expiry sweep. */
@Module({
  imports: [IngestionModule, OrganizationsModule, ScoringModule],
  controllers: [ConsentController],
  providers: [ConsentService, ConsentExpirySweep],
})
export class ConsentModule {}
