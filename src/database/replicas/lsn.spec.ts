import { formatLsn, parseLsn } from 'src/database/replicas/lsn';

describe('WAL positions', () => {
  it('reads both halves in hexadecimal, so that positions compare as numbers', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    // 1/0 is past 0/FFFFFFFF (a string comparison would say otherwise for 0/A0 and 0/9F0).
    expect(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!).toBe(true);
    expect(parseLsn('0/9F0')! > parseLsn('0/A0')!).toBe(true);
  });

  it('takes nothing else for a position', () => {
    expect([null, undefined, '', '16', '16/', 'G/1', '1/2/3', '123456789/0'].map((t) => parseLsn(t as string))).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('writes a position back as PostgreSQL does', () => {
    expect(formatLsn(parseLsn('16/B374D848')!)).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
  });
});
