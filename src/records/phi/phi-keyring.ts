import { Inject, Injectable } from '@nestjs/common';
import { InProcessLru } from 'src/common/cache/in-process-lru';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { PhiCipherCore, resolvePhiKeys } from 'src/records/phi/phi-cipher';
import { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';

/**
 * The injectable keyring (provided globally by RecordsModule): PhiKeyringCore with the app's master keys, the
 * unwrapped-key cache of PHI_KEY_CACHE_ENTRIES and the decrypted-value cache of the list (`decryptRecent`,
 * PHI_DECRYPT_CACHE_ENTRIES / _SECONDS), both in this process's memory only.
 */
@Injectable()
export class PhiKeyring extends PhiKeyringCore {
  constructor(@Inject(SETTINGS) settings: Settings) {
    super(
      new PhiCipherCore(resolvePhiKeys(settings)),
      settings.phiKeyCacheEntries,
      new InProcessLru<string>(settings.phiDecryptCache.entries, settings.phiDecryptCache.seconds * 1000),
    );
  }
}

/** A keyring outside Nest (CLIs, the seed, benchmarks): same keys as the app for the same settings; no value cache. */
export function createPhiKeyring(settings: Settings): PhiKeyringCore {
  return new PhiKeyringCore(new PhiCipherCore(resolvePhiKeys(settings)), settings.phiKeyCacheEntries);
}
