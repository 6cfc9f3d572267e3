/**
 * Config: the one frozen, validated ProxyConfig, provided under PROXY_CONFIG to every module. Promises
 * that no module reads argv or the environment for settings, and that a config that reached here has
 * passed every validation (bad ones never start the app).
 */
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { PROXY_CONFIG, type ProxyConfig } from './proxy-config.js';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ProxyConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: PROXY_CONFIG, useValue: config }], exports: [PROXY_CONFIG] };
  }
}
