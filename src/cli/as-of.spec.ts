import { CliUsageError } from 'src/cli/support/run-cli';
import { parseAsOf } from 'src/cli/as-of';

describe('recompute --as-of', () => {
  const now = new Date('2026-11-25T07:00:00Z');
  it('defaults to now', () => expect(parseAsOf(undefined, now)).toBe(now));
  it.each([
    ['2026-11-26T03:00:00Z', '2026-11-26T03:00:00.000Z'],
    ['2026-11-26T03:00:00.250+01:00', '2026-11-26T02:00:00.250Z'],
    ['2026-11-26', '2026-11-26T00:00:00.000Z'],
    ['2028-02-29T23:30:00-01:00', '2028-03-01T00:30:00.000Z'],
  ])('reads %s', (value, expected) => expect(parseAsOf(value, now).toISOString()).toBe(expected));
  it.each(['tomorrow', '2026-11-26T03:00', '2026-13-01', '2026-11-31T06:00:00Z', '2026-02-29', '', '1764126000000'])('refuses %p with a usage error', (value) => {
    expect(() => parseAsOf(value, now)).toThrow(CliUsageError);
  });
});
