/**
 * OIDC discovery for workload identity: re-serves the API server's service-account issuer documents
 * (/.well-known/openid-configuration and /openid/v1/jwks) on their own unauthenticated listener, for
 * clusters running --anonymous-auth=false whose tokens AWS IRSA, GCP/Azure workload identity or Vault must
 * verify. Loaded only with --oidc-discovery-bind-address.
 *
 * Promises: only those two documents, only GET/HEAD, fetched with the proxy's own (rotating) credentials;
 * nothing is cached unless it is valid JSON of the right shape and within the size cap; an API server
 * outage serves the last good copy (counted and logged) rather than an error; strong ETags and 304s;
 * /ready includes this module only when it is enabled, and /live never depends on it.
 * Refuses: any other path or method, and proxying anything to the API server on a client's behalf.
 */
import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { DiscoveryServerService } from './discovery-server.service.js';
import { DiscoveryUpstreamService } from './discovery-upstream.service.js';
import { DiscoveryService } from './discovery.service.js';

@Module({
  imports: [HealthModule, UpstreamModule],
  providers: [DiscoveryUpstreamService, DiscoveryService, DiscoveryServerService],
  exports: [DiscoveryServerService],
})
export class DiscoveryModule {}
