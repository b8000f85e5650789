/**
 * `npm run bench:phi-keys`: the CPU cost of envelope encryption on the list's hot path, without a database.
 * A list page of 100 patients decrypts a phone and an email per row (200 values). Compared:
 * - before: one master key for every value (PhiCipherCore.decrypt, no additional data);
 * - after, warm: the patients' data keys in the key cache (PhiDataKey.decrypt, bound to its place);
 * - after, cold: the same plus unwrapping the 100 data keys (what a page costs when none of its keys are cached;
 *   the one look-up statement of the page comes on top, measured by the e2e and read benchmarks);
 * - one ciphertext per row (what the list reads now: `patients.contact_enc`, phone and email as one JSON value under
 *   the patient's key, bound to its own place; src/records/phi/patient-contact.ts), warm and cold, through the list's
 *   own reader (PhiReader.contact: decrypt and parse);
 * - the same through WebCrypto (crypto.subtle.decrypt, the other AES-GCM API of Node: no cipher object to create,
 *   but a promise and a copy per value), to see whether the per-value cost is the cipher object's.
 * Prints microseconds per page (median of rounds).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { PhiDataKey, unwrapPatientKey, wrapPatientKey } from 'src/records/phi/phi-data-key';
import { contactPlace, encryptContact } from 'src/records/phi/patient-contact';
import { PhiReader } from 'src/records/phi/phi-reader';
import { medianMicros } from './median';

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
    dek,
    contact: encryptContact(key, id, phone, email) as string,
    wrapped: wrapPatientKey(kek, org, id, 1, dek),
    legacy: [master.encrypt(phone) as string, master.encrypt(email) as string],
    values: [key.encrypt(phone, { table: 'patients', column: 'phone_enc', row: id }) as string, key.encrypt(email, { table: 'patients', column: 'email_enc', row: id }) as string],
  };
});

const median = (work: () => void): number => medianMicros(work, ROUNDS);

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
const contactWarm = median(() => {
  for (const r of rows) {
    const c = new PhiReader(r.key, org).contact(r.contact, r.id);
    sink += (c.phone as string).length + (c.email as string).length;
  }
});
const contactCold = median(() => {
  for (const r of rows) {
    const key = new PhiDataKey(org, 'p1', unwrapPatientKey(kek, org, r.id, 1, r.wrapped), master);
    const c = new PhiReader(key, org).contact(r.contact, r.id);
    sink += (c.phone as string).length + (c.email as string).length;
  }
});

/** WebCrypto: the same one-per-row contact values, keys imported once (as a key cache would hold them). */
async function webCrypto(): Promise<number> {
  const subtle = globalThis.crypto.subtle;
  const prepared = await Promise.all(
    rows.map(async (r) => {
      const raw = Buffer.from(r.contact.slice(3), 'base64');
      const place = contactPlace(r.id);
      return {
        key: await subtle.importKey('raw', r.dek, 'AES-GCM', false, ['decrypt']),
        iv: raw.subarray(0, 12),
        // WebCrypto wants ciphertext | tag; the stored form is iv | tag | ciphertext.
        data: Buffer.concat([raw.subarray(28), raw.subarray(12, 28)]),
        aad: Buffer.from(`${org}\u0000${place.table}\u0000${place.column}\u0000${place.row}`, 'utf8'),
      };
    }),
  );
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    const plain = await Promise.all(prepared.map((p) => subtle.decrypt({ name: 'AES-GCM', iv: p.iv, additionalData: p.aad }, p.key, p.data)));
    for (const b of plain) sink += (JSON.parse(Buffer.from(b).toString('utf8')) as { phone: string }).phone.length;
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const wrapMany = (n: number): number => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) wrapPatientKey(kek, org, rows[i % ROWS].id, 2, unwrapPatientKey(kek, org, rows[i % ROWS].id, 1, rows[i % ROWS].wrapped));
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const rewrap = wrapMany(100_000);
void webCrypto().then((subtle) =>
  process.stdout.write(
    `List page of ${ROWS} rows, median of ${ROUNDS} rounds, node ${process.version}:\n` +
      `  two values per row (phone_enc, email_enc: 200 decryptions):\n` +
      `    master key, no binding (the former format): ${before.toFixed(0)} us\n` +
      `    patient keys cached, bound to place:        ${warm.toFixed(0)} us\n` +
      `    patient keys not cached (+100 unwraps):     ${cold.toFixed(0)} us\n` +
      `  one value per row (contact_enc: 100 decryptions + JSON), what the list reads:\n` +
      `    patient keys cached, bound to place:        ${contactWarm.toFixed(0)} us\n` +
      `    patient keys not cached (+100 unwraps):     ${contactCold.toFixed(0)} us\n` +
      `    WebCrypto (subtle.decrypt, keys imported):  ${subtle.toFixed(0)} us (wall clock: promises, thread pool)\n` +
      `Re-wrapping 100,000 patient keys (unwrap + wrap, CPU only): ${rewrap.toFixed(0)} ms\n` +
      `(checksum ${sink})\n`,
  ),
);
