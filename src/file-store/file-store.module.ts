import { Global, Module } from '@nestjs/common';
import { FileStore } from 'src/file-store/file-store.service';
import { StoredFilesRepository } from 'src/file-store/stored-files.repository';

/** The encrypted file store, for every module that keeps files a while (exports, imports). */
@Global()
@Module({ providers: [StoredFilesRepository, FileStore], exports: [FileStore] })
export class FileStoreModule {}
