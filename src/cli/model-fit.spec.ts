import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main, parseArgs, parseCustomersCsv } from 'src/cli/model-fit';
import { CDNOW_PUBLISHED, readCdnow } from 'test/fixtures/cdnow/cdnow';

interface Run {
  code: number;
  stdout: string[];
  stderr: string[];
}

function run(argv: string[]): Run {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(argv, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

describe('model:fit', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'model-fit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fits CDNOW and prints one JSON line matching the published estimates within 1 %', () => {
    const lines = readCdnow().map((c) => `${c.x},${c.tx},${c.T},${c.zbar}`);
    const input = write('cdnow.csv', ['frequency,recency,T,monetary_value', ...lines].join('\n') + '\n');
    const { code, stdout, stderr } = run(['--input', input]);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toHaveLength(1);
    const output = JSON.parse(stdout[0]) as { bgnbd: Record<string, number>; gamma_gamma: Record<string, number> };
    expect(Object.keys(output)).toEqual(['bgnbd', 'gamma_gamma']);
    expect(Object.keys(output.bgnbd)).toEqual(['r', 'alpha', 'a', 'b', 'log_likelihood']);
    expect(Object.keys(output.gamma_gamma)).toEqual(['p', 'q', 'v']);
    const close = (estimate: number, published: number): void => expect(Math.abs(estimate / published - 1)).toBeLessThan(0.01);
    close(output.bgnbd.r, CDNOW_PUBLISHED.bgnbd.r);
    close(output.bgnbd.alpha, CDNOW_PUBLISHED.bgnbd.alpha);
    close(output.bgnbd.a, CDNOW_PUBLISHED.bgnbd.a);
    close(output.bgnbd.b, CDNOW_PUBLISHED.bgnbd.b);
    expect(output.bgnbd.log_likelihood).toBeCloseTo(CDNOW_PUBLISHED.bgnbd.logLikelihood, 0);
    close(output.gamma_gamma.p, CDNOW_PUBLISHED.gammaGamma.p);
    close(output.gamma_gamma.q, CDNOW_PUBLISHED.gammaGamma.q);
    close(output.gamma_gamma.v, CDNOW_PUBLISHED.gammaGamma.v);
  });

  it.each([
    ['no --input', [], /missing --input/],
    ['--input without a value', ['--input'], /--input needs a file name/],
    ['a missing file', ['--input', '/nonexistent/customers.csv'], /\/nonexistent\/customers\.csv: no such file/],
  ])('fails with one stderr line on %s', (_, argv, message) => {
    const { code, stdout, stderr } = run(argv as string[]);
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(message);
    expect(stderr[0]).not.toMatch(/\n|\s+at /);
  });

  it.each([
    ['a missing column', 'frequency,recency,monetary_value\n1,2,3\n', /missing column "T"/],
    ['a non-numeric value', 'frequency,recency,T,monetary_value\n1,2,30,5\n2,abc,30,5\n', /line 3, column "recency": "abc" is not a number/],
    ['an empty cell', 'frequency,recency,T,monetary_value\n1,,30,5\n', /line 2, column "recency": "" is not a number/],
    ['a fractional frequency', 'frequency,recency,T,monetary_value\n1.5,2,30,5\n', /line 2, column "frequency"/],
    ['recency after T', 'frequency,recency,T,monetary_value\n1,40,30,5\n', /line 2, column "recency": 40 must be between 0 and T/],
    ['a zero value with purchases', 'frequency,recency,T,monetary_value\n2,20,30,0\n', /line 2, column "monetary_value"/],
    ['no rows', 'frequency,recency,T,monetary_value\n', /no data rows/],
    ['no repeat customers', 'frequency,recency,T,monetary_value\n0,0,30,0\n', /no rows with frequency > 0/],
  ])('names the problem on %s', (name, text, message) => {
    const input = write(`${name.replace(/\W+/g, '-')}.csv`, text);
    const { code, stdout, stderr } = run(['--input', input]);
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^model:fit: /);
    expect(stderr[0]).toMatch(message);
  });

  it('accepts --input=file, any column order, extra columns, CRLF and a BOM', () => {
    expect(parseArgs(['--input=a.csv'])).toEqual({ input: 'a.csv' });
    const rows = parseCustomersCsv('\uFEFFid,T,monetary_value,recency,frequency\r\n7,30,12.5,20,2\r\n8,30,0,0,0\r\n', 'x.csv');
    expect(rows).toEqual([
      { frequency: 2, recency: 20, T: 30, monetary_value: 12.5 },
      { frequency: 0, recency: 0, T: 30, monetary_value: 0 },
    ]);
  });
});
