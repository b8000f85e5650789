import { Injectable } from '@nestjs/common';

/**
 * Whether the process is draining (SIGTERM received, main.ts): readiness then answers 503 so that a load balancer
 * stops sending new requests, while the requests in flight finish (docs/resilience.md, "Shutdown").
 */
@Injectable()
export class ShutdownState {
  private drainingSince: number | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
