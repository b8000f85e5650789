import { Global, Module } from '@nestjs/common';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { ErasureTombstones } from 'src/records/tombstones/erasure-tombstones';
import { PhiKeyring } from 'src/records/phi/phi-keyring';

/**
 * Patient records: the PHI keyring every module that reads or writes encrypted fields injects (and the master cipher,
 * for files), and the erasure tombstones (written by an erasure, read by every way records come in).
 */
@Global()
@Module({
  providers: [PhiCipher, PhiKeyring, ErasureTombstones],
  exports: [PhiCipher, PhiKeyring, ErasureTombstones],
})
export class RecordsModule {}
