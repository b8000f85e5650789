import { Injectable } from '@nestjs/common';

/**
 * The process's shutdown (docs/resilience.md, "Shutdown"): main.ts starts draining on SIGTERM; readiness then
 * answers 503 (a load balancer stops sending), every answer carries `Connection: close`, and the requests in flight
 * (counted by app.factory.ts's hooks) and the running jobs get until `deadline` to finish.
 */
@Injectable()
export class ShutdownState {
  private drainingSince: number | null = null;
  private graceMs = 0;
  private inFlightCount = 0;
  private readonly idleWaiters = new Set<() => void>();

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /** Epoch ms by which everything must have finished (Infinity before draining). */
  get deadline(): number {
    return this.drainingSince === null ? Infinity : this.drainingSince + this.graceMs;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  startDraining(graceMs: number): void {
    if (this.drainingSince !== null) return;
    this.drainingSince = Date.now();
    this.graceMs = graceMs;
  }

  requestStarted(): void {
    this.inFlightCount++;
  }

  requestEnded(): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - 1);
    if (this.inFlightCount === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Resolves true once no request is in flight, or false at the deadline. */
  async requestsDone(): Promise<boolean> {
    if (this.inFlightCount === 0) return true;
    const left = this.deadline - Date.now();
    if (left <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(wake);
        resolve(this.inFlightCount === 0);
      }, left);
      this.idleWaiters.add(wake);
    });
  }
}
