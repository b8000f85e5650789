import { StringDecoder } from 'node:string_decoder';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { JobService } from 'src/jobs/job.service';
import { Clock } from 'src/common/clock/clock';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { StoredFilesRepository, type StoredFileRow } from 'src/file-store/stored-files.repository';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import type { PhiPlace } from 'src/records/phi/phi-data-key';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';

/** Plain bytes per encrypted chunk: bounded memory whatever the file's size. */
export const CHUNK_BYTES = 1 << 20;
/** Chunks read per round trip when a file is streamed back. */
const READ_BATCH = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where a data key and a chunk belong: a copy elsewhere does not decrypt. */
const keyAad = (organizationId: string, fileId: string): string => `stored-file-key:${organizationId}:${fileId}`;
const chunkAad = (organizationId: string, fileId: string, seq: number): Buffer =>
  Buffer.from(`stored-file-chunk:${organizationId}:${fileId}:${seq}`, 'utf8');

export interface NewStoredFile {
  /** The job run it belongs to, if any. */
  runId?: string | null;
  name: string;
  contentType: string;
  /** When it is deleted (null: kept until its run or organization goes). */
  expiresAt: Date | null;
}

/**
 * Writes one stored file as it is produced, line by line or buffer by buffer: the plain bytes are cut into 1 MiB
 * chunks, each encrypted (AES-256-GCM under the file's own data key, bound to the organization, the file and its
 * position) and inserted as it fills, so memory stays bounded and nothing decrypted touches a disk. `finish` marks
 * the file complete; an unfinished file stays `writing` (and is never served).
 */
export class StoredFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private seq = 0;
  private lines = 0;
  private bytes = 0;
  private finished = false;

  constructor(
    readonly file: StoredFileRow,
    private readonly dataKey: Buffer,
    private readonly store: (seq: number, data: Buffer) => Promise<void>,
    private readonly complete: (totals: { lines: number; bytes: number; chunks: number }) => Promise<void>,
  ) {}

  get id(): string {
    return this.file.id;
  }

  /** Appends one line (a newline is added). */
  async writeLine(line: string): Promise<void> {
    this.lines++;
    await this.write(Buffer.from(`${line}\n`, 'utf8'));
  }

  /** Appends lines (a newline after each), encoded at once: one buffer for a batch instead of one per line. */
  async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    this.lines += lines.length;
    await this.write(Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
  }

  async write(data: Buffer): Promise<void> {
    if (this.finished) throw new Error('StoredFileWriter: written after finish');
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.bytes += data.length;
    while (this.pendingBytes >= CHUNK_BYTES) await this.flush(CHUNK_BYTES);
  }

  /** Stores what is left and marks the file complete; returns its totals. */
  async finish(): Promise<{ lines: number; bytes: number; chunks: number }> {
    if (this.pendingBytes > 0) await this.flush(this.pendingBytes);
    this.finished = true;
    const totals = { lines: this.lines, bytes: this.bytes, chunks: this.seq };
    await this.complete(totals);
    return totals;
  }

  private async flush(size: number): Promise<void> {
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const plain = all.subarray(0, size);
    const rest = all.subarray(size);
    this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, iv);
    cipher.setAAD(chunkAad(this.file.organizationId, this.file.id, this.seq));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    await this.store(this.seq, Buffer.concat([iv, cipher.getAuthTag(), body]));
    this.seq++;
  }
}

/**
 * The encrypted file store (src/file-store/): files kept in the database (every instance and worker reaches them,
 * no shared disk), encrypted at rest chunk by chunk under a per-file data key wrapped by the PHI keys, streamed in and
 * out with bounded memory, deleted at their expiry. Bulk exports write their NDJSON files here; imports keep their
 * uploads and outcomes here.
 */
@Injectable()
export class FileStore implements OnModuleInit {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly crossTenant: CrossTenantDb,
    private readonly files: StoredFilesRepository,
    private readonly cipher: PhiCipher,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
    @Optional() private readonly jobs?: JobService,
  ) {}

  onModuleInit(): void {
    this.jobs?.onTick('stored-files-expiry', () => this.deleteExpired());
  }

  /** A new file of the organization, to be written with the returned writer. */
  async create(organizationId: string, file: NewStoredFile): Promise<StoredFileWriter> {
    const id = randomUUID();
    const dataKey = randomBytes(32);
    // The file's key under the organization's key (format o1:, bound to the file): deleting the organization's keys
    // leaves its files unreadable too.
    // A transaction (not `statements`): the organization key's lock, taken with its version, holds until the row is
    // stored (a key rotation's last step then sees this row: PhiKeysRepository.newestOrganizationKeyVersion).
    const row = await this.tenantDb.transaction(organizationId, async (db) => {
      const orgKey = await this.keyring.organizationDataKey(db, true);
      const keyWrapped = orgKey.encrypt(dataKey.toString('base64'), filePlace(id)) as string;
      return this.files.create(db, {
        id,
        runId: file.runId ?? null,
        name: file.name,
        contentType: file.contentType,
        keyWrapped,
        expiresAt: file.expiresAt,
      });
    });
    return new StoredFileWriter(
      row,
      dataKey,
      // A chunk goes as a bound parameter (a transaction's extended protocol), not inlined as a literal by
      // `statements`: a 1 MiB chunk inlined was a 2 MiB hex string escaped character by character, most of a bulk
      // export's CPU and garbage (measured: docs/privacy.md, "Measurements").
      (seq, data) => this.tenantDb.transaction(organizationId, (db) => this.files.appendChunk(db, id, seq, data)),
      (totals) => this.tenantDb.statements(organizationId, (db) => this.files.complete(db, id, totals)),
    );
  }

  /** A file's description, null when the organization has none with that id (or it expired). */
  async get(organizationId: string, fileId: string): Promise<StoredFileRow | null> {
    const row = await this.tenantDb.statements(organizationId, (db) => this.files.byId(db, fileId));
    return row && !this.expired(row) ? row : null;
  }

  /** A file's data key: under the organization's key (o1:), or, for files stored before, under the master key. */
  private async dataKey(file: StoredFileRow): Promise<Buffer> {
    if (!file.keyWrapped.startsWith('o1:')) return this.cipher.unwrapKey(file.keyWrapped, keyAad(file.organizationId, file.id));
    const orgKey = await this.tenantDb.statements(file.organizationId, (db) => this.keyring.organizationDataKey(db, false));
    return Buffer.from(orgKey.decrypt(file.keyWrapped, filePlace(file.id)) as string, 'base64');
  }

  /** The files of a job run, in the order they were created (expired ones left out). */
  async ofRun(organizationId: string, runId: string): Promise<StoredFileRow[]> {
    return (await this.tenantDb.statements(organizationId, (db) => this.files.ofRun(db, runId))).filter((f) => !this.expired(f));
  }

  /** The plain content of a complete file, chunk by chunk (about 1 MiB each). PhiDecryptError when tampered with. */
  async *read(file: StoredFileRow): AsyncGenerator<Buffer> {
    if (file.status !== 'complete') throw new Error(`Stored file ${file.id} is not complete`);
    const organizationId = file.organizationId;
    const dataKey = await this.dataKey(file);
    for (let from = 0; from < file.chunks; from += READ_BATCH) {
      const chunks = await this.tenantDb.statements(organizationId, (db) => this.files.chunks(db, file.id, from, READ_BATCH));
      for (const { seq, data } of chunks) {
        if (data.length < IV_BYTES + TAG_BYTES) throw new PhiDecryptError('stored file chunk too short');
        try {
          const decipher = createDecipheriv('aes-256-gcm', dataKey, data.subarray(0, IV_BYTES));
          decipher.setAAD(chunkAad(organizationId, file.id, seq));
          decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
          yield Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        } catch {
          throw new PhiDecryptError(`stored file chunk ${seq} failed authentication`);
        }
      }
    }
  }

  /** The file's lines, one at a time (NDJSON records), across chunk boundaries. */
  async *lines(file: StoredFileRow): AsyncGenerator<string> {
    // A chunk may end inside a multi-byte character: the decoder keeps its first bytes for the next chunk.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of this.read(file)) {
      const text = rest + decoder.write(chunk);
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) yield line;
    }
    rest += decoder.end();
    if (rest.length > 0) yield rest;
  }

  /** Deletes files of the organization (their chunks go with them). */
  remove(organizationId: string, fileIds: readonly string[]): Promise<number> {
    return fileIds.length === 0 ? Promise.resolve(0) : this.tenantDb.statements(organizationId, (db) => this.files.remove(db, fileIds, this.clock.now()));
  }

  /** Every organization's expired files, deleted (the jobs' periodic tick calls it). */
  deleteExpired(now: Date = this.clock.now()): Promise<number> {
    return this.files.deleteExpired(this.crossTenant, now);
  }

  private expired(file: StoredFileRow): boolean {
    return file.expiresAt !== null && new Date(file.expiresAt).getTime() <= this.clock.now().getTime();
  }
}

/** Where a file's wrapped key is stored (its binding). */
const filePlace = (fileId: string): PhiPlace => ({ table: 'stored_files', column: 'key_wrapped', row: fileId });
