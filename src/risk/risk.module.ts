import { Module } from '@nestjs/common';
import { PatientsModule } from 'src/patients/patients.module';
import { RiskSummaryController } from 'src/risk/risk-summary.controller';
import { RiskSummaryService } from 'src/risk/risk-summary.service';

/** The risk summary (spec endpoint 2). Scores themselves are computed by the scoring engine (src/scoring). */
@Module({
  imports: [PatientsModule],
  controllers: [RiskSummaryController],
  providers: [RiskSummaryService],
})
export class RiskModule {}
