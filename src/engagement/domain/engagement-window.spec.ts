import { localDate } from 'src/common/time/calendar';
import { bucketCount, listBuckets, resolveWindow } from 'src/engagement/domain/engagement-window';
import { satisfactionMetrics } from 'src/engagement/domain/satisfaction';

describe('engagement window', () => {
  it('defaults to this week and the 11 before it, by week', () => {
    const w = resolveWindow({}, '2026-11-24');
    expect(w).toMatchObject({ from: '2026-09-07', to: '2026-11-24', granularity: 'week' });
    const buckets = 'buckets' in w ? w.buckets : [];
    expect(buckets).toHaveLength(12);
    expect(buckets[0]).toBe('2026-09-07');
    expect(buckets[11]).toBe('2026-11-23');
  });

  it('lists day, week and month buckets from the bucket holding from', () => {
    expect(listBuckets('2026-01-30', '2026-02-02', 'day')).toEqual(['2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02']);
    expect(listBuckets('2026-03-04', '2026-03-16', 'week')).toEqual(['2026-03-02', '2026-03-09', '2026-03-16']);
    expect(listBuckets('2025-11-15', '2026-02-01', 'month')).toEqual(['2025-11-01', '2025-12-01', '2026-01-01', '2026-02-01']);
    expect(bucketCount('2025-11-15', '2026-02-01', 'month')).toBe(4);
    expect(bucketCount('2024-01-01', '2026-09-26', 'day')).toBe(1000);
  });

  it('refuses bad ranges, naming the field', () => {
    expect(resolveWindow({ from: '2026-05-02', to: '2026-05-01' }, '2026-11-24')).toEqual({
      field: 'from',
      message: 'from must not be after to',
    });
    expect(resolveWindow({ from: '2026-02-30' }, '2026-11-24')).toMatchObject({ field: 'from' });
    expect(resolveWindow({ from: '2024-01-01', to: '2026-09-27', granularity: 'day' }, '2026-11-24')).toMatchObject({
      field: 'granularity',
    });
    expect(resolveWindow({ from: '2024-01-01', to: '2026-09-26', granularity: 'day' }, '2026-11-24')).toMatchObject({ from: '2024-01-01' });
  });

  it('takes today in the organization time zone', () => {
    expect(localDate(new Date('2026-11-22T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-23');
    expect(localDate(new Date('2026-11-22T23:30:00Z'), 'UTC')).toBe('2026-11-22');
  });
});

describe('satisfactionMetrics', () => {
  it('averages ratings, splits them 5..1 and computes NPS as % promoters minus % detractors', () => {
    const m = satisfactionMetrics({ byRating: { 1: 1, 2: 0, 3: 1, 4: 1, 5: 2 }, npsAnswers: 6, promoters: 3, detractors: 2 });
    expect(m).toEqual({
      avg_satisfaction: 3.6,
      satisfaction_distribution: { very_satisfied: 2, satisfied: 1, neutral: 1, dissatisfied: 0, very_dissatisfied: 1 },
      nps_score: 16.7,
    });
  });

  it('is null without answers', () => {
    const m = satisfactionMetrics({ byRating: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }, npsAnswers: 0, promoters: 0, detractors: 0 });
    expect(m.avg_satisfaction).toBeNull();
    expect(m.nps_score).toBeNull();
    expect(m.satisfaction_distribution.neutral).toBe(0);
    expect(satisfactionMetrics({ byRating: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }, npsAnswers: 4, promoters: 0, detractors: 4 }).nps_score).toBe(
      -100,
    );
  });
});
