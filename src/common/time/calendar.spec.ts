import { formatsByTimeZone, localDate, validTimeZone } from 'src/common/time/calendar';

describe('formatsByTimeZone', () => {
  const hours = formatsByTimeZone('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

  it('formats in the zone asked for, and keeps one formatter per zone', () => {
    const instant = new Date('2026-12-06T02:30:00Z');
    expect(hours('Europe/Paris')?.format(instant)).toBe('03:30');
    expect(hours('America/New_York')?.format(instant)).toBe('21:30');
    expect(hours('Europe/Paris')).toBe(hours('Europe/Paris'));
    expect(hours('Europe/Paris')).not.toBe(hours('America/New_York'));
  });

  it('answers null for a zone this runtime does not know, every time', () => {
    expect(hours('Mars/Olympus_Mons')).toBeNull();
    expect(hours('Mars/Olympus_Mons')).toBeNull();
  });

  it('keeps separate formatters for separate options', () => {
    const days = formatsByTimeZone('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });
    expect(days('Asia/Tokyo')?.format(new Date('2026-12-06T20:00:00Z'))).toBe('2026-12-07');
    expect(hours('Asia/Tokyo')?.format(new Date('2026-12-06T20:00:00Z'))).toBe('05:00');
  });
});

describe('localDate and validTimeZone', () => {
  it('read the calendar date in the zone, UTC for an unknown zone', () => {
    expect(localDate(new Date('2026-12-06T23:30:00Z'), 'Asia/Tokyo')).toBe('2026-12-07');
    expect(localDate(new Date('2026-12-06T23:30:00Z'), 'Mars/Olympus_Mons')).toBe('2026-12-06');
    expect(validTimeZone('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(validTimeZone('Mars/Olympus_Mons')).toBe('UTC');
  });
});
