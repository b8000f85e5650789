/**
 * A reason the embedded PostgreSQL could not start, as one line a user can act on: what went wrong and what to do.
 * `main.ts` and every command print the message alone and exit with code 1 (no stack trace).
 */
export class EmbeddedPostgresError extends Error {
  constructor(
    /** Which failure it is, for tests and for the log. */
    readonly reason: EmbeddedFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export type EmbeddedFailureReason =
  | 'folder_unusable'
  | 'system_user'
  | 'port_taken'
  | 'other_major_version'
  | 'disk_full'
  | 'another_server'
  | 'wrong_owner'
  | 'timeout'
  | 'failed';

/** What the server or initdb wrote before it stopped, and where the whole of it is. */
export interface FailureOutput {
  output: string;
  dataDir: string;
  port: number;
  logFile: string;
}

const NO_SPACE = /No space left on device|could not extend file|ENOSPC/i;
const PORT_IN_USE = /could not bind .* Address already in use|could not create any TCP\/IP sockets/i;
const LOCK_FILE = /lock file "postmaster\.pid" already exists/i;
const WRONG_OWNER = /has wrong ownership|has invalid permissions|must be owned by/i;

/** The first FATAL, PANIC or ERROR line of the output (without its prefix), else its last non-empty line. */
export function firstFatalLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => /\b(FATAL|PANIC|ERROR)\b/.test(l)) ?? lines.find((l) => /^(initdb|postgres): (error|fatal)/i.test(l));
  const line = fatal ?? lines[lines.length - 1] ?? 'no output';
  return line.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, '').replace(/^(initdb|postgres): (error|fatal):?\s*/i, '');
}

/** The one-line error for what initdb or the server printed when it failed. */
export function classifyFailure(step: 'initdb' | 'start', f: FailureOutput): EmbeddedPostgresError {
  if (NO_SPACE.test(f.output)) {
    return new EmbeddedPostgresError('disk_full', `No space left on the device that holds ${f.dataDir}: free some space (see \`df -h ${f.dataDir}\`) and start again, or set DATA_DIR to a folder on another disk.`);
  }
  if (PORT_IN_USE.test(f.output)) return portTaken(f.port);
  if (LOCK_FILE.test(f.output)) {
    return new EmbeddedPostgresError('another_server', `Another PostgreSQL holds the data folder ${f.dataDir} (its postmaster.pid names a running process): stop that server, or set DATA_DIR to another folder.`);
  }
  if (WRONG_OWNER.test(f.output)) {
    return new EmbeddedPostgresError('wrong_owner', `The embedded PostgreSQL's data folder ${f.dataDir} belongs to another user (${firstFatalLine(f.output)}): start as the user who created it, or set DATA_DIR to a folder of your own.`);
  }
  const what = step === 'initdb' ? 'could not create its database' : 'did not start';
  return new EmbeddedPostgresError('failed', `The embedded PostgreSQL ${what}: ${firstFatalLine(f.output)}. Its full output is in ${f.logFile}; or set DATABASE_URL to use another PostgreSQL.`);
}

export function portTaken(port: number): EmbeddedPostgresError {
  return new EmbeddedPostgresError('port_taken', `Port ${port} on 127.0.0.1, where the embedded PostgreSQL listens, is taken by another program: set EMBEDDED_POSTGRES_PORT to a free port, or stop that program.`);
}
