import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '../../../src/config/config.module.js';
import { PROXY_CONFIG, type ProxyConfig } from '../../../src/config/proxy-config.js';

@Injectable()
class Consumer {
  constructor(@Inject(PROXY_CONFIG) readonly config: ProxyConfig) {}
}

/** A feature module that does not import ConfigModule itself. */
@Module({ providers: [Consumer], exports: [Consumer] })
class FeatureModule {}

describe('ConfigModule', () => {
  it('provides the one config object to every module without importing it', async () => {
    const config = Object.freeze({ ops: { logLevel: 'info' } }) as unknown as ProxyConfig;
    const sut = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), FeatureModule] }).compile();
    expect(sut.get(Consumer).config).toBe(config);
    expect(sut.get(PROXY_CONFIG)).toBe(config);
    await sut.close();
  });
});
