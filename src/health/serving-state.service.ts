import { Injectable } from '@nestjs/common';

export type ServingPhase = 'starting' | 'serving' | 'shutting_down';

/**
 * Facts readiness is computed from. Not latched: every /ready reads the current values, so readiness
 * follows reality (jetstack and Tremolo latched ready after the first success).
 */
@Injectable()
export class ServingStateService {
  private phase: ServingPhase = 'starting';

  get current(): ServingPhase {
    return this.phase;
  }

  markServing(): void {
    if (this.phase === 'starting') this.phase = 'serving';
  }

  markShuttingDown(): void {
    this.phase = 'shutting_down';
  }
}
