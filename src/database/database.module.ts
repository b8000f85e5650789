import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from 'src/database/data-source-options';

export interface DatabaseModuleOptions {
  url: string;
  poolSize: number;
}

/** The application's connection pool: works as the runtime role, so row-level security applies to it. */
@Module({})
export class DatabaseModule {
  static register(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions({ url: options.url, asRuntimeRole: true, poolSize: options.poolSize }),
          retryAttempts: 0,
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
