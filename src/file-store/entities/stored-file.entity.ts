import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/**
 * A file the app keeps for a while, encrypted at rest (src/file-store/): what a bulk export writes for download, an
 * uploaded import waiting for its job, an import's outcomes. Its content is in `stored_file_chunks`, encrypted with
 * the file's own data key, which is stored wrapped by the PHI keys. Shared by every instance (it lives in the
 * database: no shared disk needed) and gone at `expires_at`.
 */
@Entity({ name: 'stored_files' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_stored_files_organization_id', onDelete: 'CASCADE' })
@Index('idx_stored_files_organization_id_run_id', ['organizationId', 'runId'])
@Index('idx_stored_files_expires_at', ['expiresAt'], { where: 'expires_at IS NOT NULL' })
@Check('ck_stored_files_status', `status IN ('writing', 'complete')`)
export class StoredFile {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'pk_stored_files' })
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  /** The job run it belongs to (an export's files, an import's upload and outcomes), if any. */
  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  /** What it is to its run: `Patient.ndjson`, `upload-1.ndjson`, `outcomes.ndjson`... (no PHI). */
  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'content_type', type: 'varchar', length: 100 })
  contentType: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: 'writing' | 'complete';

  /** Lines written (NDJSON: records). */
  @Column({ name: 'lines', type: 'bigint', default: 0 })
  lines: string;

  /** Plain bytes written. */
  @Column({ name: 'bytes', type: 'bigint', default: 0 })
  bytes: string;

  @Column({ name: 'chunks', type: 'integer', default: 0 })
  chunks: number;

  /** The file's data key under its organization's key (`o1:`, PhiKeyring.organizationDataKey; files stored before: under the master key, PhiCipherCore.wrapKey), bound to this file. */
  @Column({ name: 'key_wrapped', type: 'text' })
  keyWrapped: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When it is deleted (null: kept until its run or organization goes). */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}

/** One encrypted piece of a stored file, in order: AES-256-GCM under the file's data key, bound to (file, seq). */
@Entity({ name: 'stored_file_chunks' })
@ForeignKey(() => StoredFile, ['fileId'], ['id'], { name: 'fk_stored_file_chunks_file_id', onDelete: 'CASCADE' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_stored_file_chunks_organization_id', onDelete: 'CASCADE' })
export class StoredFileChunk {
  @PrimaryColumn({ name: 'file_id', type: 'uuid', primaryKeyConstraintName: 'pk_stored_file_chunks' })
  fileId: string;

  @PrimaryColumn({ name: 'seq', type: 'integer', primaryKeyConstraintName: 'pk_stored_file_chunks' })
  seq: number;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  /** iv (12) | tag (16) | ciphertext. */
  @Column({ name: 'data', type: 'bytea' })
  data: Buffer;
}
