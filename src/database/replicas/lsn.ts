/**
 * PostgreSQL WAL positions (`pg_lsn`, written `16/B374D848`) as numbers that compare: the high and low 32-bit halves
 * in hexadecimal. Null for anything else (a standby that has replayed nothing answers NULL).
 */
export function parseLsn(text: string | null | undefined): bigint | null {
  if (typeof text !== 'string') return null;
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null;
}

/** The position back in PostgreSQL's notation. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
