/**
 * model:fit: fits BG/NBD and Gamma-Gamma to a customer summary CSV and prints one JSON line.
 *
 *   npm run --silent model:fit -- --input file.csv
 *
 * Input: a header with the columns frequency,recency,T,monetary_value (any order, extra columns ignored), then one
 * customer a line: frequency = repeat transactions x, recency = t_x, T = age, monetary_value = mean value of the
 * repeat transactions (needed > 0 only where frequency > 0). BG/NBD is fitted on every row, Gamma-Gamma on the rows
 * with frequency > 0.
 * Output (stdout): {"bgnbd":{"r","alpha","a","b","log_likelihood"},"gamma_gamma":{"p","q","v"}}.
 * Bad input: one line on stderr naming the line and column, exit code 1, no stack trace.
 * A plain Node script (no Nest): `main` is exported for tests and only runs by itself when launched directly.
 */
import { existsSync, readFileSync, statSync } from 'fs';
import { fitBgNbd, type RepeatHistory } from 'src/scoring/domain/bg-nbd';
import { fitGammaGamma, type SpendHistory } from 'src/scoring/domain/gamma-gamma';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const REQUIRED_COLUMNS = ['frequency', 'recency', 'T', 'monetary_value'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number];

/** An input problem the user can fix; reported as one line. */
export class InputError extends Error {}

export interface CustomerRow {
  frequency: number;
  recency: number;
  T: number;
  monetary_value: number;
}

export function parseArgs(argv: readonly string[]): { input: string } {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new InputError('--input needs a file name');
      return { input: value };
    }
    if (argv[i].startsWith('--input=')) return { input: argv[i].slice('--input='.length) };
  }
  throw new InputError('missing --input <file.csv> (usage: model:fit --input file.csv)');
}

export function parseCustomersCsv(text: string, source: string): CustomerRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').split(',').map((h) => h.trim());
  const index = {} as Record<Column, number>;
  for (const column of REQUIRED_COLUMNS) {
    const at = header.indexOf(column);
    if (at < 0) throw new InputError(`${source}: missing column "${column}" in the header (expected ${REQUIRED_COLUMNS.join(',')})`);
    index[column] = at;
  }
  const rows: CustomerRow[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    const cells = lines[n].split(',');
    const where = (column: Column): string => `${source}: line ${n + 1}, column "${column}"`;
    const value = (column: Column): number => {
      const cell = (cells[index[column]] ?? '').trim();
      const parsed = Number(cell);
      if (cell === '' || !Number.isFinite(parsed)) throw new InputError(`${where(column)}: "${cell}" is not a number`);
      return parsed;
    };
    const row: CustomerRow = {
      frequency: value('frequency'),
      recency: value('recency'),
      T: value('T'),
      monetary_value: value('monetary_value'),
    };
    if (!Number.isInteger(row.frequency) || row.frequency < 0) {
      throw new InputError(`${where('frequency')}: ${row.frequency} is not a whole number >= 0`);
    }
    if (!(row.T > 0)) throw new InputError(`${where('T')}: ${row.T} must be > 0`);
    if (row.recency < 0 || row.recency > row.T) {
      throw new InputError(`${where('recency')}: ${row.recency} must be between 0 and T (${row.T})`);
    }
    if (row.frequency > 0 && !(row.monetary_value > 0)) {
      throw new InputError(`${where('monetary_value')}: ${row.monetary_value} must be > 0 when frequency > 0`);
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new InputError(`${source}: no data rows`);
  if (!rows.some((r) => r.frequency > 0)) throw new InputError(`${source}: no rows with frequency > 0 for Gamma-Gamma`);
  return rows;
}

export function fitModels(rows: readonly CustomerRow[]): string {
  const repeats: RepeatHistory[] = rows.map((r) => ({ x: r.frequency, tx: r.recency, T: r.T }));
  const spends: SpendHistory[] = rows.filter((r) => r.frequency > 0).map((r) => ({ x: r.frequency, zbar: r.monetary_value }));
  const bgnbd = fitBgNbd(repeats);
  const gammaGamma = fitGammaGamma(spends);
  return JSON.stringify({
    bgnbd: { r: bgnbd.r, alpha: bgnbd.alpha, a: bgnbd.a, b: bgnbd.b, log_likelihood: bgnbd.logLikelihood },
    gamma_gamma: { p: gammaGamma.p, q: gammaGamma.q, v: gammaGamma.v },
  });
}

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the command; returns the exit code (0 success, 1 bad input or failed fit). */
export function main(argv: readonly string[], io: CliIo = defaultIo): number {
  try {
    const { input } = parseArgs(argv);
    if (!existsSync(input) || !statSync(input).isFile()) throw new InputError(`${input}: no such file`);
    io.stdout(fitModels(parseCustomersCsv(readFileSync(input, 'utf8'), input)));
    return 0;
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`model:fit: ${error instanceof InputError ? '' : 'fit failed: '}${message}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
