/**
 * Tests that need something a machine may lack (the product's `../shared` folder beside the repository, a Redis
 * server): `itUnless(missing, ...)` registers the test with `it` when `missing` is null, and otherwise with `it.skip`,
 * printing `missing` (the reason) so that a skipped test is never silent. The one place the suite skips a test on
 * purpose (eslint's jest/no-disabled-tests is off for this file only, see eslint.config.mjs).
 */
export function itUnless(missing: string | null, name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (missing === null) {
    it(name, fn, timeout);
    return;
  }
  console.warn(`SKIPPED "${name}": ${missing}`);
  it.skip(`${name} (skipped: ${missing})`, fn, timeout);
}

/** The same for a whole describe block. */
export function describeUnless(missing: string | null, name: string, fn: () => void): void {
  if (missing === null) {
    describe(name, fn);
    return;
  }
  console.warn(`SKIPPED "${name}": ${missing}`);
  describe.skip(`${name} (skipped: ${missing})`, fn);
}
