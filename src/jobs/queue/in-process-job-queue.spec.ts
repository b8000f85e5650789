import { InProcessJobQueue, retryDelayMs } from 'src/jobs/queue/in-process-job-queue';
import type { QueuedJob } from 'src/jobs/queue/job-queue';

const job = (n: number): QueuedJob => ({ runId: `run-${n}`, organizationId: 'org', type: 't' });
const noTick = { everyMs: 3_600_000, run: async (): Promise<void> => undefined };

describe('InProcessJobQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most `concurrency` jobs at once, in the order queued', async () => {
    const q = new InProcessJobQueue();
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    await q.work(
      async (j) => {
        started.push(j.runId);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => release.push(r));
        running--;
      },
      noTick,
      2,
    );
    for (let i = 1; i <= 5; i++) await q.add(job(i), { attempts: 1 });
    while (started.length < 5) {
      await new Promise((r) => setImmediate(r));
      release.splice(0).forEach((r) => r());
    }
    await q.idle();
    expect(started).toEqual(['run-1', 'run-2', 'run-3', 'run-4', 'run-5']);
    expect(most).toBe(2);
    await q.close();
  });

  it('retries a failed attempt with backoff (2 s, 4 s...) and tells the last attempt it is final', async () => {
    jest.useFakeTimers();
    const q = new InProcessJobQueue();
    const calls: [number, boolean][] = [];
    await q.work(
      async (_j, attempt, final) => {
        calls.push([attempt, final]);
        throw new Error('boom');
      },
      noTick,
      1,
    );
    await q.add(job(1), { attempts: 3 });
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([[1, false]]);
    await jest.advanceTimersByTimeAsync(retryDelayMs(1) - 2);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2);
    expect(calls).toEqual([
      [1, false],
      [2, false],
    ]);
    await jest.advanceTimersByTimeAsync(retryDelayMs(2));
    expect(calls).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(calls).toHaveLength(3); // no fourth attempt
    await q.close();
  });

  it('holds jobs added before it works, and runs the tick on its interval', async () => {
    jest.useFakeTimers();
    const q = new InProcessJobQueue();
    const done: string[] = [];
    let ticks = 0;
    await q.add(job(1), { attempts: 1 });
    await q.work(
      async (j) => {
        done.push(j.runId);
      },
      { everyMs: 1000, run: async () => void ticks++ },
      1,
    );
    await jest.advanceTimersByTimeAsync(2500);
    expect(done).toEqual(['run-1']);
    expect(ticks).toBe(2);
    await q.close();
    await jest.advanceTimersByTimeAsync(5000);
    expect(ticks).toBe(2);
  });

  it('backs off at most a minute', () => {
    expect([1, 2, 3, 10].map(retryDelayMs)).toEqual([2000, 4000, 8000, 60_000]);
  });
});
