import fc from 'fast-check';
import { hyp2f1, lgamma, logSumExp } from 'src/scoring/domain/special-functions';

describe('lgamma', () => {
  it.each([
    [1, 0],
    [2, 0],
    [3, Math.log(2)],
    [0.5, 0.5723649429247001], // ln √π
    [1.5, -0.12078223763524522], // ln(√π / 2)
    [10, 12.801827480081469], // ln 9!
    [100, 359.1342053695754], // ln 99!
    [0.1, 2.252712651734206],
    [1e-8, 18.420680738180209],
    [-0.5, 1.2655121234846454], // ln(2√π)
    [-1.5, 0.8600470153764810], // ln(4√π / 3)
    [171.5, 709.1431630309282], // reference values: CPython math.lgamma
  ])('lgamma(%p) = %p', (x, expected) => {
    expect(lgamma(x)).toBeCloseTo(expected, 12 - Math.max(0, Math.ceil(Math.log10(Math.abs(expected) + 1))));
  });

  it('has poles at the non-positive integers and passes NaN through', () => {
    expect(lgamma(0)).toBe(Infinity);
    expect(lgamma(-3)).toBe(Infinity);
    expect(lgamma(Infinity)).toBe(Infinity);
    expect(lgamma(NaN)).toBeNaN();
  });

  it('matches ln((n-1)!) for n = 1..30', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 30; n++) {
      expect(Math.abs(lgamma(n) - logFactorial)).toBeLessThan(1e-12 * Math.max(1, logFactorial));
      logFactorial += Math.log(n);
    }
  });

  it('satisfies the recurrence lnΓ(x+1) = lnΓ(x) + ln x', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (x) => {
        const diff = lgamma(x + 1) - lgamma(x) - Math.log(x);
        return Math.abs(diff) < 1e-10 * Math.max(1, Math.abs(lgamma(x + 1)));
      }),
    );
  });
});

describe('logSumExp', () => {
  it('is log(e^a + e^b) without overflow', () => {
    expect(logSumExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 14);
    expect(logSumExp(1000, 1000)).toBeCloseTo(1000 + Math.log(2), 10);
    expect(logSumExp(-Infinity, 3)).toBe(3);
    expect(logSumExp(3, -Infinity)).toBe(3);
  });
});

describe('hyp2f1', () => {
  it('is 1 at z = 0', () => {
    expect(hyp2f1(2.5, 3.5, 1.5, 0)).toBe(1);
  });

  it.each([0.1, 0.5, 0.9, 0.99, 0.999])('2F1(1, 1; 2; z) = -ln(1 - z) / z at z = %p', (z) => {
    expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
  });

  it.each([
    [0.3, 0.2],
    [2.5, 0.7],
    [7.1, 0.95],
  ])('2F1(a, b; b; z) = (1 - z)^-a for a = %p, z = %p', (a, z) => {
    const expected = Math.pow(1 - z, -a);
    expect(hyp2f1(a, 1.7, 1.7, z) / expected).toBeCloseTo(1, 11);
  });

  it.each([0.2, 0.6, 0.9])('2F1(1/2, 1/2; 3/2; z²) = asin(z) / z at z = %p', (z) => {
    expect(hyp2f1(0.5, 0.5, 1.5, z * z)).toBeCloseTo(Math.asin(z) / z, 12);
  });

  it('handles negative z (alternating series) and large parameters', () => {
    expect(hyp2f1(1, 1, 2, -0.5)).toBeCloseTo(Math.log(1.5) / 0.5, 12);
    // BG/NBD-sized arguments: 2F1(r + x, b + x; a + b + x - 1; z) with x = 50.
    const value = hyp2f1(50.24, 52.43, 52.22, 0.5);
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(1);
  });

  it('refuses |z| >= 1 and a non-positive integer c', () => {
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, 2, -1.5)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, -2, 0.5)).toThrow(RangeError);
  });

  it('reports non-convergence instead of returning a wrong sum', () => {
    expect(() => hyp2f1(1, 1, 2, 0.9999999, { maxTerms: 100 })).toThrow(/did not converge/);
  });
});
