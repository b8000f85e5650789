import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { Database } from 'src/database/database';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import type { DatabaseResilienceOptions } from 'src/database/resilience/database-resilience';
import { TenantDb } from 'src/database/tenant/tenant-db';

export interface DatabaseModuleOptions {
  url: string;
  poolSize: number;
  /** DATABASE_REPLICA_URLS and their settings (src/database/replicas/). */
  replicas?: { urls: string[]; maxLagSeconds: number; retrySeconds: number };
  /** Timeouts and the circuit breaker (the settings' `resilience` block). */
  resilience?: DatabaseResilienceOptions;
}

/**
 * The app's database (src/database/database.ts): one pool of runtime-role connections, so row-level security
 * applies to every query. Provides Database, TenantDb (one organization's data) and CrossTenantDb (the escape hatch);
 * the pool closes when the app shuts down.
 */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(Database) private readonly database: Database) {}

  static register(options: DatabaseModuleOptions): DynamicModule {
    const logger = new Logger('Database');
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: Database,
          useFactory: () =>
            new Database({
              url: options.url,
              poolSize: options.poolSize,
              replicas: options.replicas,
              onReplicaEvent: (message) => logger.warn(message),
              onIdleError: (err) => logger.warn(`An idle database connection failed and was dropped: ${err.message}`),
              resilience: options.resilience,
              onBreakerChange: (state) =>
                state === 'open'
                  ? logger.error(
                      'Database circuit breaker OPEN: the database is not answering; requests that need it get 503 with Retry-After',
                    )
                  : state === 'closed'
                    ? logger.log('Database circuit breaker closed: the database answers again')
                    : logger.log('Database circuit breaker half-open: probing the database'),
            }),
        },
        { provide: TenantDb, useFactory: (db: Database) => db.tenants, inject: [Database] },
        { provide: CrossTenantDb, useFactory: (db: Database) => db.crossTenant, inject: [Database] },
        { provide: ReadTenantDb, useFactory: (db: Database) => db.reads, inject: [Database] },
      ],
      exports: [Database, TenantDb, CrossTenantDb, ReadTenantDb],
    };
  }

  /** With read replicas: their first check (a replica serves only once checked) and the other processes' writes. */
  async onModuleInit(): Promise<void> {
    await this.database.startReplicas();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
