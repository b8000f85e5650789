import { classifyFailure, firstFatalLine } from 'src/database/embedded/embedded-postgres.error';

const where = { dataDir: '/data/postgres', port: 54329, logFile: '/data/embedded-postgres.log' };

describe('classifyFailure: what initdb or the server printed, as one line with what to do', () => {
  it('reads a full disk from initdb (output captured from a 12 MB tmpfs)', () => {
    const output = [
      'running bootstrap script ... 2026-12-05 02:50:40.012 UTC [14365] FATAL:  could not write to file "pg_wal/xlogtemp.14365": No space left on device',
      'child process exited with exit code 1',
      'initdb: removing contents of data directory "/tmp/full/pg"',
    ].join('\n');
    const e = classifyFailure('initdb', { output, ...where });
    expect(e.reason).toBe('disk_full');
    expect(e.message).toBe('No space left on the device that holds /data/postgres: free some space (see `df -h /data/postgres`) and start again, or set DATA_DIR to a folder on another disk.');
  });

  it('reads a taken port from the server', () => {
    const output = [
      '2026-12-05 02:51:00.000 UTC [1] LOG:  could not bind IPv4 address "127.0.0.1": Address already in use',
      '2026-12-05 02:51:00.000 UTC [1] HINT:  Is another postmaster already running on port 54329? If not, wait a few seconds and retry.',
      '2026-12-05 02:51:00.000 UTC [1] FATAL:  could not create any TCP/IP sockets',
    ].join('\n');
    const e = classifyFailure('start', { output, ...where });
    expect(e.reason).toBe('port_taken');
    expect(e.message).toMatch(/^Port 54329 on 127\.0\.0\.1, where the embedded PostgreSQL listens, is taken by another program: set EMBEDDED_POSTGRES_PORT/);
  });

  it('reads a lock file held by a live process', () => {
    const output = '2026-12-05 FATAL:  lock file "postmaster.pid" already exists\nHINT:  Is another postmaster (PID 31) running in data directory "/data/postgres"?';
    expect(classifyFailure('start', { output, ...where }).reason).toBe('another_server');
  });

  it('reads a data folder of another owner', () => {
    const output = '2026-12-05 FATAL:  data directory "/data/postgres" has wrong ownership\nHINT:  The server must be started by the user that owns the data directory.';
    const e = classifyFailure('start', { output, ...where });
    expect(e.reason).toBe('wrong_owner');
    expect(e.message).toContain('data directory "/data/postgres" has wrong ownership');
  });

  it('otherwise names the first FATAL line and where the whole output is', () => {
    const output = 'LOG:  starting PostgreSQL 18.4\nFATAL:  could not map anonymous shared memory: Cannot allocate memory\nLOG:  database system is shut down';
    const e = classifyFailure('start', { output, ...where });
    expect(e.reason).toBe('failed');
    expect(e.message).toBe('The embedded PostgreSQL did not start: could not map anonymous shared memory: Cannot allocate memory. Its full output is in /data/embedded-postgres.log; or set DATABASE_URL to use another PostgreSQL.');
    expect(e.message).not.toContain('\n');
  });

  it('firstFatalLine falls back to initdb errors and to the last line', () => {
    expect(firstFatalLine('x\ninitdb: error: directory "/d" exists but is not empty\ny')).toBe('directory "/d" exists but is not empty');
    expect(firstFatalLine('a\nb\n')).toBe('b');
    expect(firstFatalLine('')).toBe('no output');
  });
});
