import { SettingsError } from 'src/config/settings';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres.error';
import { DatabaseUnreachableError } from 'src/database/wait-for-database';
import { MasterKeyMismatchError } from 'src/records/phi/master-key-check';

/** A mistake in a command's arguments: printed as one line, exit code 2. */
export class CliUsageError extends Error {}

/**
 * Runs a command-line entry point: expected failures (bad arguments, settings, unreachable database) print one
 * line on stderr and exit non-zero without a stack trace; anything else prints its stack.
 */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof CliUsageError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof SettingsError || err instanceof DatabaseUnreachableError || err instanceof EmbeddedPostgresError || err instanceof MasterKeyMismatchError || (err instanceof Error && err.name === 'TypeError' && (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')) {
        process.stderr.write(`${err.message}\n`);
        process.exit(err instanceof CliUsageError ? 2 : 1);
      }
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
