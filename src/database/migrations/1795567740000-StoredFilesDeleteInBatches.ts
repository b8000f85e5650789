import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `stored_files_delete_expired(now, max_chunks)` replaces `stored_files_delete_expired(now)`: one DELETE of every
 * expired file cascaded to all their chunks at once, which for a million-patient export (6,000+ chunks of 1 MiB)
 * outlasts the statement timeout, so the file was never removed. Each call now deletes at most `max_chunks` chunks of
 * expired files, then the expired files left without chunks, and reports both counts (the caller repeats while a call
 * used its whole budget). An expired file is unreadable already, so a file partly deleted is never served.
 */
export class StoredFilesDeleteInBatches1795567740000 implements MigrationInterface {
  name = 'StoredFilesDeleteInBatches1795567740000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION stored_files_delete_expired(timestamptz)`);
    await queryRunner.query(`CREATE FUNCTION stored_files_delete_expired(p_now timestamptz, p_max_chunks integer, OUT files integer, OUT chunks integer)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      BEGIN
        WITH batch AS (
          SELECT c.file_id, c.seq FROM stored_file_chunks c JOIN stored_files f ON f.id = c.file_id
          WHERE f.expires_at IS NOT NULL AND f.expires_at <= p_now LIMIT p_max_chunks
        ), gone AS (
          DELETE FROM stored_file_chunks c USING batch WHERE c.file_id = batch.file_id AND c.seq = batch.seq RETURNING 1
        ) SELECT count(*)::int INTO chunks FROM gone;
        WITH gone AS (
          DELETE FROM stored_files f WHERE f.expires_at IS NOT NULL AND f.expires_at <= p_now
            AND NOT EXISTS (SELECT 1 FROM stored_file_chunks c WHERE c.file_id = f.id)
          RETURNING 1
        ) SELECT count(*)::int INTO files FROM gone;
      END
      $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION stored_files_delete_expired(timestamptz, integer) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION stored_files_delete_expired(timestamptz, integer) TO patient_journey_app`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION stored_files_delete_expired(timestamptz, integer)`);
    await queryRunner.query(`CREATE FUNCTION stored_files_delete_expired(p_now timestamptz) RETURNS integer
      LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        WITH gone AS (DELETE FROM stored_files WHERE expires_at IS NOT NULL AND expires_at <= p_now RETURNING 1) SELECT count(*)::int FROM gone
      $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION stored_files_delete_expired(timestamptz) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION stored_files_delete_expired(timestamptz) TO patient_journey_app`);
  }
}
