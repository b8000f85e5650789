import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from 'src/app.module';
import type { Settings } from 'src/config/settings';
import { createRootLogger } from 'src/common/logging/logging';
import { AppLogger } from 'src/common/logging/app-logger';

/** The app's modules without an HTTP server: a worker, or a command that uses the app's services. */
export async function createAppContext(settings: Settings, databaseUrl: string): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.register({ settings, databaseUrl }), { bufferLogs: true, abortOnError: false });
  context.useLogger(new AppLogger(createRootLogger(settings)));
  context.enableShutdownHooks();
  return context;
}
