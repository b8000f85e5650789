/**
 * `npm run bench:phi-keys`: the CPU cost of envelope encryption on the list's hot path, without a database.
 * A list page of 100 patients decrypts a phone and an email per row (200 values). Compared:
 * - before: one master key for every value (PhiCipherCore.decrypt, no additional data);
 * - after, warm: the patients' data keys in the key cache (PhiDataKey.decrypt, bound to its place);
 * - after, cold: the same plus unwrapping the 100 data keys (what a page costs when none of its keys are cached;
 *   the one look-up statement of the page comes on top, measured by the e2e and read benchmarks).
 * Prints microseconds per page (median of rounds).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { PhiDataKey, unwrapPatientKey, wrapPatientKey } from 'src/records/phi/phi-data-key';

const ROWS = 100;
const ROUNDS = 400;
const org = randomUUID();
const master = new PhiCipherCore({ encryption: [{ version: 'v1', key: randomBytes(32) }], blindIndex: randomBytes(32) });
const kek = randomBytes(32);
const rows = Array.from({ length: ROWS }, (_, i) => {
  const id = randomUUID();
  const dek = randomBytes(32);
  const key = new PhiDataKey(org, 'p1', dek, master);
  const phone = `+1 503 555 ${String(i).padStart(4, '0')}`;
  const email = `patient${i}@example.test`;
  return {
    id,
    key,
    wrapped: wrapPatientKey(kek, org, id, 1, dek),
    legacy: [master.encrypt(phone) as string, master.encrypt(email) as string],
    values: [key.encrypt(phone, { table: 'patients', column: 'phone_enc', row: id }) as string, key.encrypt(email, { table: 'patients', column: 'email_enc', row: id }) as string],
  };
});

function median(work: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

let sink = 0;
const before = median(() => {
  for (const r of rows) sink += (master.decrypt(r.legacy[0]) as string).length + (master.decrypt(r.legacy[1]) as string).length;
});
const warm = median(() => {
  for (const r of rows) {
    sink += (r.key.decrypt(r.values[0], { table: 'patients', column: 'phone_enc', row: r.id }) as string).length;
    sink += (r.key.decrypt(r.values[1], { table: 'patients', column: 'email_enc', row: r.id }) as string).length;
  }
});
const cold = median(() => {
  for (const r of rows) {
    const key = new PhiDataKey(org, 'p1', unwrapPatientKey(kek, org, r.id, 1, r.wrapped), master);
    sink += (key.decrypt(r.values[0], { table: 'patients', column: 'phone_enc', row: r.id }) as string).length;
    sink += (key.decrypt(r.values[1], { table: 'patients', column: 'email_enc', row: r.id }) as string).length;
  }
});
const wrapMany = (n: number): number => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) wrapPatientKey(kek, org, rows[i % ROWS].id, 2, unwrapPatientKey(kek, org, rows[i % ROWS].id, 1, rows[i % ROWS].wrapped));
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const rewrap = wrapMany(100_000);
process.stdout.write(
  `List page of ${ROWS} rows (200 values), median of ${ROUNDS} rounds, node ${process.version}:\n` +
    `  before (master key, no binding):        ${before.toFixed(0)} us\n` +
    `  after, keys cached (bound to place):    ${warm.toFixed(0)} us\n` +
    `  after, keys not cached (+100 unwraps):  ${cold.toFixed(0)} us\n` +
    `Re-wrapping 100,000 patient keys (unwrap + wrap, CPU only): ${rewrap.toFixed(0)} ms\n` +
    `(checksum ${sink})\n`,
);
