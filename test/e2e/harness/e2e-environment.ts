/**
 * Jest environment for e2e specs (`@jest-environment ./test/e2e/harness/e2e-environment.ts` docblock):
 * Node's environment plus a flag that a test or hook failed, so `ControlPlane.stop()` keeps the logs
 * of failed runs without every spec wrapping its tests.
 * Jest loads environments through require(), without the suite's moduleNameMapper: no relative imports here.
 */
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';

export default class E2eEnvironment extends TestEnvironment {
  async handleTestEvent(event: Circus.Event): Promise<void> {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') {
      // Read by testRunFailed() in control-plane.ts.
      this.global.__kubeOidcProxyE2eFailed = true;
    }
  }
}
