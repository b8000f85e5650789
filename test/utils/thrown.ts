/**
 * The error `fn` throws, for expectations on its fields outside a `catch` (where an expectation runs only when the
 * throw happens: jest/no-conditional-expect). Fails the test when nothing is thrown.
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw, but nothing was thrown');
}
