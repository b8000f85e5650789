import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { Clock, SystemClock } from 'src/common/clock/clock';
import { CacheStatusHook } from 'src/common/cache/request-freshness';
import { ProblemFilter } from 'src/common/problem/problem.filter';
import { ShutdownState } from 'src/common/resilience/shutdown-state';
import { ProblemValidationPipe } from 'src/common/validation/problem-validation.pipe';
import { ConfigModule } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import { DatabaseModule } from 'src/database/database.module';
import { databaseResilience } from 'src/database/resilience/database-resilience';
import { HealthModule } from 'src/health/health.module';
import { AuthModule } from 'src/auth/auth.module';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { RecordsModule } from 'src/records/records.module';
import { IngestionModule } from 'src/ingestion/ingestion.module';
import { ConsentModule } from 'src/consent/consent.module';
import { PrivacyModule } from 'src/privacy/privacy.module';
import { ScoringModule } from 'src/scoring/scoring.module';
import { AuditModule } from 'src/audit/audit.module';
import { PatientsModule } from 'src/patients/patients.module';
import { RiskModule } from 'src/risk/risk.module';
import { EngagementModule } from 'src/engagement/engagement.module';
import { JourneyModule } from 'src/journey/journey.module';
import { OpportunitiesModule } from 'src/opportunities/opportunities.module';
import { JobsModule } from 'src/jobs/jobs.module';
import { FileStoreModule } from 'src/file-store/file-store.module';
import { FhirImportModule } from 'src/fhir-import/fhir-import.module';

export interface AppOptions {
  settings: Settings;
  /** The database the app uses: DATABASE_URL, or the embedded PostgreSQL started by main.ts. */
  databaseUrl: string;
  /** Tests pass a FixedClock. */
  clock?: Clock;
}

@Module({})
export class AppModule {
  static register(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ConfigModule.register(options.settings),
        DatabaseModule.register({
          url: options.databaseUrl,
          poolSize: options.settings.databasePoolSize,
          replicas: options.settings.databaseReplicas,
          resilience: databaseResilience(options.settings),
        }),
        HealthModule,
        JobsModule,
        FileStoreModule,
        AuthModule,
        OrganizationsModule,
        RecordsModule,
        IngestionModule,
        ConsentModule,
        FhirImportModule,
        ScoringModule,
        AuditModule,
        PatientsModule,
        RiskModule,
        EngagementModule,
        JourneyModule,
        OpportunitiesModule,
        PrivacyModule,
      ],
      providers: [
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        ShutdownState,
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useClass: ProblemValidationPipe },
        CacheStatusHook,
      ],
      exports: [Clock, ShutdownState],
    };
  }
}
