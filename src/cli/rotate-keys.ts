import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { progressReporter } from 'src/cli/support/progress';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { Client } from 'pg';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import { rotateKeys } from 'src/records/phi/rotate-keys';
import { checkMasterKey } from 'src/records/phi/master-key-check';
import { OrganizationKeyMissingError, rotateOrganizationKey } from 'src/records/phi/rotate-organization-key';

/**
 * `npm run rotate-keys -- --org <slug> --org-key [--batch-size <n>]`: replaces that organization's own key (a new
 * version; every patient key re-wrapped under it in batches, one transaction each; its own values re-encrypted; the
 * old version removed; audited). Rerun after an interruption: it carries on. docs/privacy.md, "Keys".
 *
 * `npm run rotate-keys [-- --reindex]`: re-wraps every organization's key under the newest key of
 * PHI_ENCRYPTION_KEYS (put the new key first, keep the old ones until this has run), and converts the values still in
 * the former format (before envelope encryption) to their patient's key. `--reindex` also recomputes the email/phone
 * blind indexes, after PHI_BLIND_INDEX_KEY changed. It also fills in the list's contact ciphertext (`contact_enc`) of
 * patients stored before it existed. `--rewrap-only` skips the scan for former-format values (once a
 * run has reported none left): the run then takes milliseconds whatever the data. docs/security.md, "Keys".
 */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      reindex: { type: 'boolean', default: false },
      'rewrap-only': { type: 'boolean', default: false },
      org: { type: 'string' },
      'org-key': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '5000' },
    },
    strict: true,
  });
  if (values['org-key'] !== (values.org !== undefined))
    throw new CliUsageError('--org <slug> and --org-key go together: npm run rotate-keys -- --org <slug> --org-key');
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new CliUsageError('--batch-size must be an integer from 1 to 100000');
  const settings = loadSettings();
  const keyring = createPhiKeyring(settings);
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  try {
    await runMigrations(db.url);
    await checkMasterKey(db, settings, keyring.master);
    let progress: ReturnType<typeof progressReporter> | null = null;
    if (values.org !== undefined) {
      const slug = values.org;
      const organizationId = await organizationBySlug(db.url, slug);
      if (organizationId === null) throw new CliUsageError(`No organization with slug "${slug}"`);
      const rotated = await rotateOrganizationKey(db.url, keyring, organizationId, {
        batchSize,
        onProgress: (done, total) => {
          progress ??= progressReporter('patient keys', total);
          progress.update(done);
        },
      }).catch((err: unknown) => {
        if (err instanceof OrganizationKeyMissingError) throw new CliUsageError(`${slug}: ${err.message}`);
        throw err;
      });
      (progress as ReturnType<typeof progressReporter> | null)?.stop();
      process.stdout.write(
        `${slug}: organization key now version ${rotated.version}${rotated.resumed ? ' (carried on an interrupted rotation)' : ''}; ` +
          `re-wrapped ${rotated.patientKeys.toLocaleString('en-US')} patient key(s), re-encrypted ${rotated.organizationValues.toLocaleString('en-US')} organization value(s); ` +
          `removed version(s) ${rotated.removed.join(', ') || 'none'}\n`,
      );
      return;
    }
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
        `converted ${result.values.toLocaleString('en-US')} former-format value(s) to patient keys; ` +
        `gave ${result.contacts.toLocaleString('en-US')} patient(s) their contact ciphertext${values.reindex ? '; recomputed the blind indexes' : ''}\n`,
    );
    for (const [table, n] of Object.entries(result.rows))
      process.stdout.write(`  ${table.padEnd(20)} ${n.toLocaleString('en-US')} row(s)\n`);
  } finally {
    await db.stop();
  }
});

/** The organization's id by its slug (the owner connection), null when there is none. */
async function organizationBySlug(url: string, slug: string): Promise<string | null> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [slug]);
    return rows[0]?.id ?? null;
  } finally {
    await client.end();
  }
}
