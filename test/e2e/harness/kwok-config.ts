/**
 * kwok configuration for one fake node whose "kubelet" (kwok's server) answers the API server's
 * exec, attach, logs and port-forward requests by running local commands (kwok v0.8 config kinds).
 *
 * There is no scheduler or controller-manager in the e2e control plane, so pods name the fake node in
 * `spec.nodeName`, and these stages play the kubelet's part: mark the node Ready with its kubelet
 * endpoint, mark bound pods Running, and delete pods once they are being deleted.
 * Templates use kwok's template functions (NodeConditions, NodeIP, NodePort, Now, Quote).
 */

/** Annotation kwok is told to manage (`--manage-nodes-with-annotation-selector`). */
export const FAKE_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface KwokConfigInput {
  /** Working directory of commands run by `kubectl exec` (and `kubectl cp`'s tar). */
  readonly execWorkDir: string;
  /** CRI-format log file served for every container by `kubectl logs` and `kubectl attach`. */
  readonly podLogFile: string;
  /** Every pod port forwards to this local TCP address. */
  readonly portForwardTarget: { readonly address: string; readonly port: number };
}

const nodeInitialize = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'node-initialize' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Node' },
    selector: {
      matchExpressions: [{ key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: 'NotIn', values: ['True'] }],
    },
    next: {
      statusTemplate: `{{ $now := Now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
- address: {{ NodeIP | Quote }}
  type: InternalIP
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ NodePort }}
allocatable: {cpu: "32", memory: 64Gi, pods: "110"}
capacity: {cpu: "32", memory: 64Gi, pods: "110"}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: fake
  containerRuntimeVersion: fake
  kernelVersion: fake
  kubeProxyVersion: fake
  bootID: ""
  machineID: ""
  osImage: ""
  systemUUID: ""
phase: Running
`,
    },
  },
};

const podReady = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'pod-ready' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'In', values: ['Pending'] },
      ],
    },
    next: {
      statusTemplate: `{{ $now := Now }}
conditions:
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
hostIP: {{ NodeIP | Quote }}
podIP: {{ NodeIP | Quote }}
phase: Running
startTime: {{ $now | Quote }}
`,
    },
  },
};

const podDelete = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'pod-delete' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: { matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }] },
    next: { delete: true },
  },
};

/** Multi-document YAML (each document is JSON, which is YAML) for `kwok --config`. */
export function kwokConfigYaml(input: KwokConfigInput): string {
  const docs = [
    nodeInitialize,
    podReady,
    podDelete,
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterExec',
      metadata: { name: 'local-exec' },
      spec: { execs: [{ local: { workDir: input.execWorkDir } }] },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterLogs',
      metadata: { name: 'shared-log' },
      spec: { logs: [{ logsFile: input.podLogFile, follow: true }] },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterAttach',
      metadata: { name: 'shared-log' },
      spec: { attaches: [{ logsFile: input.podLogFile }] },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterPortForward',
      metadata: { name: 'local-target' },
      spec: { forwards: [{ target: input.portForwardTarget }] },
    },
  ];
  return docs.map((doc) => JSON.stringify(doc, null, 2)).join('\n---\n') + '\n';
}

/** One line in the CRI log format kubelet (and kwok) read: `<RFC3339Nano> <stream> F <text>`. */
export function criLogLine(text: string, stream: 'stdout' | 'stderr' = 'stdout', at = new Date()): string {
  return `${at.toISOString().replace('Z', '000000Z')} ${stream} F ${text}\n`;
}
