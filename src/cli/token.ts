import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DevTokenError, issueDevToken } from 'src/auth/dev-token-issuer';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { Role } from 'src/organizations/organizations.enums';

const USAGE = `usage: npm run --silent token -- --org <slug|id> --role <${Object.values(Role).join('|')}> [--email <email>] [--ttl 1h]`;

/**
 * `npm run --silent token -- --org demo --role admin`: prints a signed development token as its only stdout line
 * (everything else goes to stderr), creating the user and the membership when missing. Refused in production.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { org: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, ttl: { type: 'string' } },
    strict: true,
  });
  if (!values.org || !values.role) throw new CliUsageError(USAGE);
  const settings = loadSettings();
  if (settings.nodeEnv === 'production') throw new CliUsageError('The token command is for development: production accepts only tokens of your identity provider');
  const log = (line: string): void => {
    process.stderr.write(line + '\n');
  };
  const db = await openDatabase(settings, log);
  try {
    await runMigrations(db.url);
    const issued = await issueDevToken(db.url, settings, { org: values.org, role: values.role as Role, email: values.email, ttl: values.ttl });
    writeSync(1, issued.token + '\n');
    log(
      `Token for ${issued.email} (${issued.role} of "${issued.organizationSlug}", membership ${issued.membershipChange}), ` +
        `valid ${issued.expiresInSeconds} s. Use it as: Authorization: Bearer <token>`,
    );
  } catch (e) {
    if (e instanceof DevTokenError) throw new CliUsageError(e.message);
    throw e;
  } finally {
    await db.stop();
  }
});
