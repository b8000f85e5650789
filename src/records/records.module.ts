import { Global, Module } from '@nestjs/common';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { ErasureTombstones } from 'src/records/tombstones/erasure-tombstones';

/**
 * Patient records: the PHI cipher every module that reads or writes encrypted fields injects, and the erasure tombstones
 * (written by an erasure, read by every way records come in).
 */
@Global()
@Module({
  providers: [PhiCipher, ErasureTombstones],
  exports: [PhiCipher, ErasureTombstones],
})
export class RecordsModule {}
