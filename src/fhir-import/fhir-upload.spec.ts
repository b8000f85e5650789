import { uploadFileName } from 'src/fhir-import/fhir-upload';

describe("uploadFileName: a multipart part's filename as the outcomes and the file store show it", () => {
  it('keeps the last path segment, without control characters, at most 200 characters', () => {
    expect(uploadFileName('Patient.000.ndjson', 1)).toBe('Patient.000.ndjson');
    expect(uploadFileName('C:\\exports\\2026\\Encounter.000.ndjson', 2)).toBe('Encounter.000.ndjson');
    expect(uploadFileName('../../etc/passwd', 3)).toBe('passwd');
    expect(uploadFileName('a\u0000b\nc.ndjson', 4)).toBe('abc.ndjson');
    expect(uploadFileName(`${'x'.repeat(300)}.ndjson`, 5)).toHaveLength(200);
  });

  it('names a part without a usable filename by its position', () => {
    expect(uploadFileName(undefined, 3)).toBe('part-3.ndjson');
    expect(uploadFileName('dir/', 4)).toBe('part-4.ndjson');
    expect(uploadFileName(' \u0007 ', 5)).toBe('part-5.ndjson');
  });
});
