/**
 * Fakes `Date` only (timers, microtasks and I/O stay real, so the app, pg and Fastify run as usual), starting at
 * `now`: for code that reads the wall clock directly, such as jsonwebtoken's `exp` check and the verified-token
 * cache. Move it with `jest.setSystemTime`; `jest.useRealTimers()` restores it.
 */
export function fakeDateOnly(now: Date | number): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
