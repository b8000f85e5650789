import { Global, Module } from '@nestjs/common';
import { TenantDb } from 'src/common/database/tenant-db';

@Global()
@Module({ providers: [TenantDb], exports: [TenantDb] })
export class CommonDatabaseModule {}
