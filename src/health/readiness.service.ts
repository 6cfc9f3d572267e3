import { Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { OidcAuthenticatorService } from '../auth/oidc-authenticator.service.js';
import { ServingStateService } from './serving-state.service.js';

/** A readiness condition contributed by an optional module (only registered when that module is enabled). */
export interface ReadinessCondition {
  readonly up: boolean;
  readonly message?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly body: unknown;
}

/**
 * Ready means: an issuer's signing keys are loaded (every issuer's with --readiness-require-all-issuers;
 * the auth service applies that rule and says why it fails), the secure listener is accepting
 * connections, and shutdown has not begun. The API server's reachability is deliberately not
 * part of it: an API server outage should give clients prompt 503s, not take every proxy replica out of
 * the Service at once.
 */
@Injectable()
export class ReadinessService {
  private readonly extra = new Map<string, () => ReadinessCondition>();

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly auth: OidcAuthenticatorService,
    private readonly state: ServingStateService,
  ) {}

  /** Adds a named indicator to /ready; optional modules call this only when they are turned on. */
  addIndicator(name: string, condition: () => ReadinessCondition): void {
    this.extra.set(name, condition);
  }

  async check(): Promise<ReadinessReport> {
    try {
      const body = await this.health.check([
        () => {
          const oidc = this.indicators.check('oidc');
          // Per issuer: state, key count and the last discovery error (issuer URLs are configuration, not secrets).
          const issuers = this.auth.issuerStatus();
          const message = this.auth.notReadyReason();
          return message === undefined ? oidc.up({ issuers }) : oidc.down({ message, issuers });
        },
        () => {
          const serving = this.indicators.check('secure_serving');
          const phase = this.state.current;
          return phase === 'serving' ? serving.up() : serving.down({ message: phase });
        },
        ...[...this.extra].map(([name, condition]) => () => {
          const indicator = this.indicators.check(name);
          const { up, message } = condition();
          return up ? indicator.up() : indicator.down(message !== undefined ? { message } : {});
        }),
      ]);
      return { ready: true, body };
    } catch (err) {
      const response = (err as { getResponse?: () => unknown }).getResponse?.();
      return { ready: false, body: response ?? { status: 'error' } };
    }
  }
}
