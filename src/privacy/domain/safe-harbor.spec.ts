import { ageAt, birthYearBand, daysSince, parseBirthDate, yearOf, zip3 } from 'src/privacy/domain/safe-harbor';
import { RESTRICTED_ZIP3 } from 'src/privacy/domain/zip3-population';

const AT = new Date('2026-11-24T12:00:00Z');

describe('Safe Harbor generalizations', () => {
  it('keeps the first three digits of a ZIP of a populous area, 000 for the 17 restricted areas and for non-ZIPs', () => {
    expect(zip3('97201')).toBe('972');
    expect(zip3(' 97201-1234 ')).toBe('972');
    expect(zip3('972011234')).toBe('972');
    expect(RESTRICTED_ZIP3.size).toBe(17);
    for (const z of RESTRICTED_ZIP3) expect(zip3(`${z}45`)).toBe('000');
    expect(zip3('03601')).toBe('000');
    expect(zip3('00012')).toBe('000');
    expect(zip3('9720')).toBe('000');
    expect(zip3('ABCDE')).toBe('000');
    expect(zip3(null)).toBe('000');
    expect(zip3(undefined)).toBe('000');
  });

  it('parses real dates of birth only', () => {
    expect(parseBirthDate('1984-03-09')?.toISOString()).toBe('1984-03-09T00:00:00.000Z');
    expect(parseBirthDate('1984-02-30')).toBeNull();
    expect(parseBirthDate('09/03/1984')).toBeNull();
    expect(parseBirthDate(null)).toBeNull();
  });

  it('computes whole years of age around the birthday', () => {
    expect(ageAt(new Date('1936-11-24T00:00:00Z'), AT)).toBe(90);
    expect(ageAt(new Date('1936-11-25T00:00:00Z'), AT)).toBe(89);
    expect(ageAt(new Date('1936-12-01T00:00:00Z'), AT)).toBe(89);
    expect(ageAt(new Date('1936-10-30T00:00:00Z'), AT)).toBe(90);
  });

  it('bands birth years, groups ages of 90 and over as 90+, and says unknown without a date', () => {
    const b = (dob: string, width: number): string => birthYearBand(parseBirthDate(dob), AT, width);
    expect(b('1984-03-09', 5)).toBe('1980-1984');
    expect(b('1985-03-09', 5)).toBe('1985-1989');
    expect(b('1984-03-09', 10)).toBe('1980-1989');
    expect(b('1984-03-09', 20)).toBe('1980-1999');
    expect(b('1984-03-09', 1)).toBe('1984');
    expect(b('1984-03-09', 0)).toBe('*');
    expect(b('1936-11-24', 5)).toBe('90+');
    expect(b('1936-11-25', 5)).toBe('1935-1939');
    expect(b('1900-01-01', 0)).toBe('90+');
    expect(birthYearBand(null, AT, 5)).toBe('unknown');
  });

  it('reduces dates to years or days since an anchor', () => {
    expect(yearOf(new Date('2025-12-31T23:59:59Z'))).toBe(2025);
    expect(daysSince(new Date('2026-01-11T08:00:00Z'), new Date('2026-01-01T10:00:00Z'))).toBe(9);
    expect(daysSince(new Date('2025-12-31T10:00:00Z'), new Date('2026-01-01T10:00:00Z'))).toBe(-1);
  });
});
