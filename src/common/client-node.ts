/**
 * @kubernetes/client-node, loaded on first use. It takes about a second to load (its generated API comes
 * with it), more than half of the proxy's start-up, while the proxy only uses its kubeconfig and YAML
 * parsers: for a --kubeconfig file, an audit webhook kubeconfig or an audit policy. Started in a cluster
 * with none of those, the proxy never loads it. Node 24 loads the ES module synchronously through require.
 */
import { createRequire } from 'node:module';

type ClientNode = typeof import('@kubernetes/client-node');

let loaded: ClientNode | undefined;

export function clientNode(): ClientNode {
  loaded ??= createRequire(import.meta.url)('@kubernetes/client-node') as ClientNode;
  return loaded;
}
