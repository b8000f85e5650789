import { nightlyRefitDue, NIGHTLY_REFIT_DAYS, refitSlot } from 'src/scoring/domain/fit-policy';

const DAY = 86_400_000;

describe('nightlyRefitDue: when a small organization refits at night', () => {
  const organizationId = '0b7e2a8c-4f7d-4c36-9a55-2f4f6f1d9a10';
  const slot = refitSlot(organizationId);
  // A UTC day that is not this organization's day of the cycle, and one that is.
  const dayNumber = (d: number): Date => new Date(d * DAY + 3 * 3_600_000);
  const base = 20_500;
  const offDay = [0, 1, 2, 3, 4, 5, 6].map((k) => base + k).find((d) => d % NIGHTLY_REFIT_DAYS !== slot)!;
  const onDay = [0, 1, 2, 3, 4, 5, 6].map((k) => base + k).find((d) => d % NIGHTLY_REFIT_DAYS === slot)!;
  const org = { organizationId, settingsKey: 'k1' };

  it('refits without a fit, or one made under other (or unrecorded) settings', () => {
    expect(nightlyRefitDue(null, dayNumber(offDay), org)).toBe(true);
    expect(nightlyRefitDue({ fittedAt: dayNumber(offDay - 1), settingsKey: 'k0' }, dayNumber(offDay), org)).toBe(true);
    expect(nightlyRefitDue({ fittedAt: dayNumber(offDay - 1), settingsKey: null }, dayNumber(offDay), org)).toBe(true);
  });

  it('keeps a fit younger than a week, except on its own day of the cycle, and refits a week-old one', () => {
    expect(nightlyRefitDue({ fittedAt: dayNumber(offDay - 1), settingsKey: 'k1' }, dayNumber(offDay), org)).toBe(false);
    expect(nightlyRefitDue({ fittedAt: dayNumber(onDay - 1), settingsKey: 'k1' }, dayNumber(onDay), org)).toBe(true);
    // Fitted earlier that same UTC day (a second run of the night): kept.
    expect(nightlyRefitDue({ fittedAt: new Date(dayNumber(onDay).getTime() - 3_600_000), settingsKey: 'k1' }, dayNumber(onDay), org)).toBe(false);
    expect(nightlyRefitDue({ fittedAt: dayNumber(offDay - NIGHTLY_REFIT_DAYS), settingsKey: 'k1' }, dayNumber(offDay), org)).toBe(true);
  });

  it('spreads the organizations over the days of the cycle', () => {
    const ids = Array.from({ length: 700 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const perDay = new Array<number>(NIGHTLY_REFIT_DAYS).fill(0);
    for (const id of ids) perDay[refitSlot(id)]++;
    for (const n of perDay) expect(n).toBeGreaterThan(60); // about 100 each
  });
});
