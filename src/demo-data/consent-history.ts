import type { ConsentTable } from 'src/demo-data/seed-tables';

/** The channels of a purpose granted by a flag (as migration 1795567200000's `consent_migrate_flags` lists them). */
const CHANNELS = ['phone', 'sms', 'email', 'whatsapp'] as const;

/** Purposes granted by web form to a share of the patients (percent). */
const WEB_FORM_GRANTS = [
  ['analytics', 85],
  ['research', 40],
] as const;

/** FNV-1a (32 bits) of a string: which patients a web-form grant goes to, the same ones on every seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One patient's consent history, written with the patient (no UPDATE of a million rows afterwards): their marketing
 * and reminder flags as decisions of origin `migration` (exactly what `consent_migrate_flags` writes for a patient
 * without decisions), and analytics consent granted by web form by about 85 % of the patients (research by about
 * 40 %), chosen by a hash of the patient's number in the clinic (not of its id, which differs per run). Returns the
 * grants kept on the patient (`patients.consent_grants`), sorted as the consent policy sorts them (byte order), as
 * a COPY array literal.
 */
export function writeConsent(
  table: ConsentTable,
  index: number,
  patientId: string,
  registeredAt: string,
  flags: { marketing: boolean; reminders: boolean },
): string {
  const grants: string[] = [];
  for (const [purpose, granted] of [
    ['marketing', flags.marketing],
    ['appointment_reminders', flags.reminders],
  ] as const) {
    table.row('migration', patientId, purpose, `${granted ? 'granted' : 'denied'}\t${registeredAt}\tmigration\tmigration`);
    if (granted) for (const c of CHANNELS) grants.push(`${purpose}:${c}`);
  }
  for (const [purpose, share] of WEB_FORM_GRANTS) {
    if (fnv1a(`${index}:${purpose}`) % 100 < share) {
      table.row('seed', patientId, purpose, `granted\t${registeredAt}\tweb_form\tseed`);
      grants.push(purpose);
    }
  }
  grants.sort();
  return `{${grants.join(',')}}`;
}
