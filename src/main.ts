#!/usr/bin/env node
/**
 * Entry point. It checks the runtime before loading anything else: the dependencies (undici under
 * @kubernetes/client-node) fail with an unreadable stack trace on old Node versions.
 */
const [major = 0] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`kube-oidc-proxy needs Node.js 24 or newer; this is Node.js ${process.versions.node}.\n`);
  process.exit(1);
}
await import('./cli.js');
