import type { PatientScores } from 'src/scoring/patient-scores';
import { toCopyPieces, toCopyText } from 'src/scoring/scores/scores-copy';

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
