import { DynamicModule, Global, Module } from '@nestjs/common';
import { Settings } from 'src/config/settings';

/** Injection token of the validated settings object. */
export const SETTINGS = Symbol('SETTINGS');

@Global()
@Module({})
export class ConfigModule {
  static register(settings: Settings): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: SETTINGS, useValue: settings }], exports: [SETTINGS] };
  }
}
