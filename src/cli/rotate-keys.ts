import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { progressReporter } from 'src/cli/support/progress';
import { runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import { rotateKeys } from 'src/records/phi/rotate-keys';
import { checkMasterKey } from 'src/records/phi/master-key-check';

/**
 * `npm run rotate-keys [-- --reindex]`: re-wraps every organization's key under the newest key of
 * PHI_ENCRYPTION_KEYS (put the new key first, keep the old ones until this has run), and converts the values still in
 * the former format (before envelope encryption) to their patient's key. `--reindex` also recomputes the email/phone
 * blind indexes, after PHI_BLIND_INDEX_KEY changed. `--rewrap-only` skips the scan for former-format values (once a
 * run has reported none left): the run then takes milliseconds whatever the data. docs/security.md, "Keys".
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { reindex: { type: 'boolean', default: false }, 'rewrap-only': { type: 'boolean', default: false } },
    strict: true,
  });
  const settings = loadSettings();
  const keyring = createPhiKeyring(settings);
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  try {
    await runMigrations(db.url);
    await checkMasterKey(db.url, settings, keyring.master);
    let progress: ReturnType<typeof progressReporter> | null = null;
    const result = await rotateKeys(db.url, keyring, {
      reindex: values.reindex,
      rewrapOnly: values['rewrap-only'],
      onProgress: (done, total) => {
        progress ??= progressReporter('rows', total);
        progress.update(done);
      },
    });
    (progress as ReturnType<typeof progressReporter> | null)?.stop();
    process.stdout.write(
      `Re-wrapped ${result.organizationKeys.toLocaleString('en-US')} organization key(s) under master key ${keyring.master.currentVersion}; ` +
        `converted ${result.values.toLocaleString('en-US')} former-format value(s) to patient keys${values.reindex ? ', recomputed the blind indexes' : ''}\n`,
    );
    for (const [table, n] of Object.entries(result.rows)) process.stdout.write(`  ${table.padEnd(20)} ${n.toLocaleString('en-US')} row(s)\n`);
  } finally {
    await db.stop();
  }
});
