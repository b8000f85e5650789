import type { PatientScores } from 'src/scoring/patient-scores';
import { jsonRowsBuffer, RESULT_COLUMNS, toCopyPieces, toCopyText } from 'src/scoring/scores/scores-copy';

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

  it('jsonRowsBuffer is the UTF-8 of JSON.stringify of the rows by RESULT_COLUMNS (risk_factors nested), whatever the values', () => {
    const many: PatientScores[] = Array.from({ length: 7 }, (_, i) => ({
      ...scores,
      patientId: `00000000-0000-4000-8000-00000000000${i}`,
      sortName: ['zoë "the" o\\brien', 'ĳsbrand ☃ 𝄞', 'plain', 'tab\there\nnew', '\u0001ctl', '', "o'neil"][i],
      riskScore: [12.5 + i / 3, 0.1 + 0.2, -0, 1e21, 5e-7, Number.NaN, 100][i],
      engagementScore: i === 2 ? Number.POSITIVE_INFINITY : 80 - i / 7,
      ltvCents: i === 3 ? 2 ** 31 - 1 : 100 * i,
      lastAppointmentAt: i === 3 ? null : 1_700_000_000_000 + i,
      nextAppointmentAt: i === 4 ? 1_800_000_000_000.5 : null,
      successProbability: i / 9,
      riskFactors: i === 1 ? [] : [{ code: 'x', text: `Answers "about" 42% — ${i}\n`, points: 4.1 + i }],
      recordHistory: i % 2 === 0,
      hasMetrics: i === 0 ? null : i % 2 === 1,
    }));
    const reference = JSON.stringify(
      many.map((s) => Object.fromEntries(RESULT_COLUMNS.map(([name, , get]) => [name, name === 'risk_factors' ? s.riskFactors : get(s)]))),
    );
    expect(jsonRowsBuffer(many).toString('utf8')).toBe(reference);
    expect(jsonRowsBuffer(many).length).toBe(Buffer.byteLength(reference));
    expect(jsonRowsBuffer([]).toString('utf8')).toBe('[]');
    expect(jsonRowsBuffer(many.slice(0, 1)).toString('utf8')).toBe(JSON.stringify(JSON.parse(reference).slice(0, 1)));
  });
});
