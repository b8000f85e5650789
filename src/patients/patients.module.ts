import { Module } from '@nestjs/common';
import { AppCacheModule } from 'src/common/cache/app-cache.module';
import { PatientCountsRepository } from 'src/patients/patient-counts.repository';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { PatientsRepository } from 'src/patients/patients.repository';
import { PatientProfileService } from 'src/patients/patient-profile.service';
import { PatientsController } from 'src/patients/patients.controller';
import { PatientListService } from 'src/patients/patient-list.service';
import { ScoringModule } from 'src/scoring/scoring.module';

/**
 * Patient lists and profiles (spec endpoints 1 and 3). Exports `PatientCountsService`: writers of patients or
 * scores call `invalidate(organizationId)` after committing (the scoring engine's `recomputed$` already does).
 */
@Module({
  imports: [AppCacheModule, ScoringModule],
  controllers: [PatientsController],
  providers: [PatientsRepository, PatientCountsRepository, PatientCountsService, PatientListService, PatientProfileService],
  exports: [PatientCountsService],
})
export class PatientsModule {}
