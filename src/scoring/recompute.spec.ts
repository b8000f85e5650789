import { FEATURE_COLUMNS, featureRowFromValues } from 'src/scoring/features.query';
import { idRanges, TAIL_SPLIT, taperedBoundaries } from 'src/scoring/recompute';
import { toCopyPieces, toCopyText } from 'src/scoring/scoring.repository';
import type { PatientScores } from 'src/scoring/patient-scores';

describe('idRanges', () => {
  it('turns chunk boundaries into contiguous, open-ended [from, to) ranges', () => {
    expect(idRanges([])).toEqual([{ from: null, to: null }]);
    expect(idRanges(['b', 'd'])).toEqual([
      { from: null, to: 'b' },
      { from: 'b', to: 'd' },
      { from: 'd', to: null },
    ]);
  });
});

describe('taperedBoundaries', () => {
  const fine = (n: number): string[] => Array.from({ length: n }, (_, i) => `b${String(i + 1).padStart(3, '0')}`);
  const sizes = (boundaries: string[], fineChunks: number): number[] => {
    const starts = [0, ...boundaries.map((b) => Number(b.slice(1))), fineChunks];
    return starts.slice(1).map((end, i) => end - starts[i]);
  };

  it('keeps full chunks, then walks the last two to three chunks in quarters', () => {
    expect(TAIL_SPLIT).toBe(4);
    // A million patients in chunks of 50,000: 80 fine chunks of 12,500.
    expect(sizes(taperedBoundaries(fine(79)), 80)).toEqual([...Array(18).fill(4), ...Array(8).fill(1)]);
    // 18 fine chunks: two full chunks, then ten quarters.
    expect(sizes(taperedBoundaries(fine(17)), 18)).toEqual([4, 4, ...Array(10).fill(1)]);
    // Up to three chunks' worth: quarters only.
    expect(sizes(taperedBoundaries(fine(10)), 11)).toEqual(Array(11).fill(1));
  });

  it('leaves an organization of at most one chunk in one piece', () => {
    expect(taperedBoundaries([])).toEqual([]);
    expect(taperedBoundaries(fine(3))).toEqual([]);
    expect(sizes(taperedBoundaries(fine(4)), 5)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('toCopyText', () => {
  const scores: PatientScores = {
    patientId: '00000000-0000-4000-8000-000000000001',
    sortName: 'o\\brien\tjr\nx',
    status: 'active',
    riskScore: 12.5,
    riskLevel: 'low',
    riskFactors: [{ code: 'noShows', text: 'Missed 1 of the last 2 appointments', points: 3.1 }],
    riskTrend: 'stable',
    engagementScore: 80,
    ltvCents: 100,
    historicalRevenueCents: 100,
    futureValueCents: 0,
    referralValueCents: 0,
    totalSessions: 1,
    avgSessionValueCents: 100,
    lastAppointmentAt: 1_700_000_000_000,
    nextAppointmentAt: null,
    lastContactAt: null,
    successProbability: 0.5,
    firstVisitAt: null,
    recordHistory: true,
    hasMetrics: false,
  };

  it('writes one escaped line per patient in the column order, nulls as \\N', () => {
    const line = toCopyText([scores]);
    expect(line.endsWith('\n')).toBe(true);
    const fields = line.slice(0, -1).split('\t');
    expect(fields).toHaveLength(21);
    expect(fields[1]).toBe('o\\\\brien\\tjr\\nx');
    expect(JSON.parse(fields[5])).toEqual(scores.riskFactors);
    expect(fields.slice(14)).toEqual(['1700000000000', '\\N', '\\N', '0.5', '\\N', 't', 'f']);
  });

  it('toCopyPieces writes the same text, in pieces of whole lines', () => {
    const many: PatientScores[] = Array.from({ length: 5 }, (_, i) => ({
      ...scores,
      patientId: `00000000-0000-4000-8000-00000000000${i}`,
      riskScore: 12.5 + i / 3,
      engagementScore: i === 2 ? 0.1 + 0.2 : 80,
      lastAppointmentAt: i === 3 ? null : 1_700_000_000_000 + i,
      nextAppointmentAt: i === 4 ? 1_800_000_000_000.5 : null,
      riskFactors: i === 1 ? [] : scores.riskFactors,
      recordHistory: i % 2 === 0,
      hasMetrics: i === 0 ? null : i % 2 === 1,
    }));
    const pieces = toCopyPieces(many, 2);
    expect(pieces).toHaveLength(3);
    expect(pieces.every((p) => p.endsWith('\n'))).toBe(true);
    expect(pieces.join('')).toBe(toCopyText(many));
  });
});

describe('featureRowFromValues', () => {
  it('reads every FeatureRow field from its position in FEATURE_COLUMNS', () => {
    const values = FEATURE_COLUMNS.map((_, i) => i);
    const row = featureRowFromValues(values) as unknown as Record<string, number>;
    expect(Object.keys(row).sort()).toEqual([...FEATURE_COLUMNS].sort());
    FEATURE_COLUMNS.forEach((name, i) => expect(row[name]).toBe(i));
    expect(new Set(FEATURE_COLUMNS).size).toBe(FEATURE_COLUMNS.length);
  });
});
