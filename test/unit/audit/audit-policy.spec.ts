import { describe, expect, it } from '@jest/globals';
import { type AuditPolicy, evaluatePolicy, parseAuditPolicy } from '../../../src/audit/audit-policy.js';
import { resolveRequestInfo } from '../../../src/proxy/request-info.js';

function policyFrom(text: string): AuditPolicy {
  const result = parseAuditPolicy(text);
  if (!result.ok) throw new Error(`policy refused: ${result.errors.join('; ')}`);
  return result.policy;
}

function errorsOf(text: string): readonly string[] {
  const result = parseAuditPolicy(text);
  return result.ok ? [] : result.errors;
}

const alice = { username: 'alice', groups: ['devs', 'system:authenticated'] };
const bob = { username: 'bob', groups: ['ops', 'system:authenticated'] };

/** The kind of policy the Kubernetes docs show (audit-policy.yaml), trimmed to what each case needs. */
const DOCS_POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["pods/exec", "pods/portforward"]
  - level: Request
    userGroups: ["ops"]
    resources:
      - group: ""
        resources: ["configmaps"]
        resourceNames: ["controller-leader"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  - level: Request
    namespaces: ["kube-system"]
    omitStages: [ResponseStarted]
    omitManagedFields: true
  - level: Metadata
    resources:
      - group: "apps"
        resources: ["deployments/*"]
      - group: "batch"
  - level: Request
    resources:
      - group: ""
        resources: ["*/status"]
  - level: None
    namespaces: [""]
    verbs: ["list"]
`;

describe('parseAuditPolicy', () => {
  it('reads the documented example with its rules in order', () => {
    const policy = policyFrom(DOCS_POLICY);
    expect(policy.rules.map((r) => r.level)).toEqual(['None', 'None', 'RequestResponse', 'Request', 'Metadata', 'Request', 'Metadata', 'Request', 'None']);
    expect(policy.omitStages).toEqual(['RequestReceived']);
    expect(policy.omitManagedFields).toBe(false);
    expect(policy.rules[3]!.resources).toEqual([{ group: '', resources: ['configmaps'], resourceNames: ['controller-leader'] }]);
  });

  it('reads the same policy written as JSON', () => {
    const policy = policyFrom(JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitManagedFields: true, rules: [{ level: 'Metadata' }] }));
    expect(policy).toEqual({ rules: [expect.objectContaining({ level: 'Metadata', users: [], verbs: [] })], omitStages: [], omitManagedFields: true });
  });

  it('lists every problem of a bad policy at once, each with where it is', () => {
    const errors = errorsOf(`
apiVersion: audit.k8s.io/v1beta1
kind: Policy
omitStages: [Sent]
rules:
  - level: Everything
    userGroup: ["devs"]
  - verbs: get
  - level: Metadata
    nonResourceURLs: ["healthz", "/api/*/x"]
    namespaces: ["default"]
  - level: Request
    resources:
      - group: "Apps/"
        resources: ["", "*/*", "a/b/c", "pod*", "*"]
        resourceNames: ["x"]
  - level: Metadata
    omitManagedFields: "yes"
`);
    expect(errors).toEqual([
      'apiVersion: must be audit.k8s.io/v1 (got "audit.k8s.io/v1beta1")',
      'omitStages[0]: unsupported stage "Sent", must be one of RequestReceived, ResponseStarted, ResponseComplete, Panic',
      'rules[0].userGroup: unknown field',
      'rules[0].level: unsupported level "Everything", must be one of None, Metadata, Request, RequestResponse',
      'rules[1].level: required',
      'rules[1].verbs: must be a list of strings',
      'rules[2].nonResourceURLs[0]: "healthz" must start with "/"',
      'rules[2].nonResourceURLs[1]: "/api/*/x": "*" is only allowed at the end',
      'rules[2]: rules cannot apply to both regular resources (resources, namespaces) and nonResourceURLs',
      'rules[3].resources[0].group: "Apps/" is not a valid API group name',
      'rules[3].resources[0].resources[0]: must not be empty',
      'rules[3].resources[0].resources[1]: "*/*" is not supported, use "*" for all resources and "*/<subresource>" for a subresource of every resource',
      'rules[3].resources[0].resources[1]: wildcard "*/*" cannot be combined with resourceNames',
      'rules[3].resources[0].resources[2]: "a/b/c" has more than one "/"',
      'rules[3].resources[0].resources[3]: "pod*": "*" may only be "*", "*/<subresource>" or "<resource>/*"',
      'rules[3].resources[0].resources[3]: wildcard "pod*" cannot be combined with resourceNames',
      'rules[3].resources[0].resources[4]: wildcard "*" cannot be combined with resourceNames',
      'rules[4].omitManagedFields: must be true or false',
    ]);
  });

  it.each([
    ['an empty file', '', 'not valid YAML or JSON: expected a document, but the input is empty'],
    ['a list instead of a policy', '- level: None', 'must be an audit.k8s.io/v1 Policy object'],
    ['a policy without rules', 'apiVersion: audit.k8s.io/v1\nkind: Policy\n', 'rules: a policy with no rules would audit nothing (kube-apiserver refuses it too)'],
    ['another kind', 'apiVersion: audit.k8s.io/v1\nkind: Event\nrules: [{level: None}]', 'kind: must be Policy (got "Event")'],
    ['broken YAML', 'rules: [level: None', expect.stringMatching(/^not valid YAML or JSON: /)],
  ])('%s is refused', (_name, text, expected) => {
    expect(errorsOf(text)).toEqual([expected]);
  });
});

describe('evaluatePolicy', () => {
  const policy = policyFrom(DOCS_POLICY);
  const kubeProxy = { username: 'system:kube-proxy', groups: ['system:authenticated'] };

  it.each([
    ['kube-proxy watching endpoints is not audited', kubeProxy, 'GET', '/api/v1/endpoints?watch=true', 'None'],
    ['kube-proxy listing endpoints falls through to the next rules', kubeProxy, 'GET', '/api/v1/namespaces/kube-system/endpoints', 'Request'],
    ['a health check matches the trailing-* non-resource URL', alice, 'GET', '/healthz/ready', 'None'],
    ['exec is recorded with request and response', alice, 'POST', '/api/v1/namespaces/default/pods/web/exec?command=sh', 'RequestResponse'],
    ['a named configmap read by the ops group is recorded with its request', bob, 'GET', '/api/v1/namespaces/default/configmaps/controller-leader', 'Request'],
    ['the same configmap read by someone else is metadata only', alice, 'GET', '/api/v1/namespaces/default/configmaps/controller-leader', 'Metadata'],
    ['another configmap read by the ops group is metadata only', bob, 'GET', '/api/v1/namespaces/default/configmaps/other', 'Metadata'],
    ['secrets are metadata only', alice, 'GET', '/api/v1/namespaces/default/secrets/token', 'Metadata'],
    ['anything in kube-system is recorded with its request', alice, 'GET', '/api/v1/namespaces/kube-system/pods', 'Request'],
    ['resource/* matches the resource itself', alice, 'GET', '/apis/apps/v1/namespaces/default/deployments/web', 'Metadata'],
    ['resource/* matches a subresource', alice, 'PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', 'Metadata'],
    ['a group without resources matches all of it', alice, 'DELETE', '/apis/batch/v1/namespaces/default/jobs', 'Metadata'],
    ['*/status matches the status of any core resource', alice, 'PATCH', '/api/v1/nodes/n1/status', 'Request'],
    ['*/status does not match the resource itself', alice, 'GET', '/api/v1/nodes/n1', 'None'],
    ['namespace "" selects cluster-scoped requests', alice, 'GET', '/api/v1/nodes', 'None'],
    ['a namespaced list does not match namespace ""', alice, 'GET', '/apis/apps/v1/namespaces/default/replicasets', 'None'],
    ['a group is matched exactly, not the core group', alice, 'GET', '/apis/example.com/v1/namespaces/default/secrets/x', 'None'],
    ['a resource rule never matches a non-resource URL', alice, 'GET', '/api', 'None'],
  ])('%s', (_name, user, method, url, level) => {
    expect(evaluatePolicy(policy, { user, info: resolveRequestInfo(method, url) }).level).toBe(level);
  });

  it.each([
    ['/version', 'None'],
    ['/version/extra', 'Metadata'],
    ['/metrics', 'None'],
    ['/metricsz', 'None'],
    ['/logs/kube-apiserver.log', 'None'],
    ['/log', 'Metadata'],
    ['/api/v1/pods', 'Metadata'],
  ])('non-resource URL rules: %s is audited at %s', (path, level) => {
    const p = policyFrom('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- {level: None, nonResourceURLs: [/version, /metrics*, /logs/*]}\n- {level: Metadata}');
    expect(evaluatePolicy(p, { user: alice, info: resolveRequestInfo('GET', path) }).level).toBe(level);
  });

  it('combines the policy\'s omitted stages with the rule\'s, and the rule\'s omitManagedFields wins', () => {
    const decision = evaluatePolicy(policy, { user: alice, info: resolveRequestInfo('GET', '/api/v1/namespaces/kube-system/pods') });
    expect([...decision.omitStages].sort()).toEqual(['RequestReceived', 'ResponseStarted']);
    expect(decision.omitManagedFields).toBe(true);
  });

  it('a request no rule matches is not audited and keeps the policy defaults', () => {
    const decision = evaluatePolicy(policyFrom('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: true\nrules: [{level: Metadata, users: [carol]}]'), {
      user: alice,
      info: resolveRequestInfo('GET', '/api/v1/pods'),
    });
    expect(decision).toEqual({ level: 'None', omitStages: new Set(), omitManagedFields: true });
  });

  it.each([
    ['users', '{level: Metadata, users: [alice]}', alice, true],
    ['users', '{level: Metadata, users: [alice]}', bob, false],
    ['userGroups (any of the user\'s groups)', '{level: Metadata, userGroups: [nobody, devs]}', alice, true],
    ['userGroups', '{level: Metadata, userGroups: [devs]}', bob, false],
    ['verbs', '{level: Metadata, verbs: [list]}', alice, true],
    ['verbs', '{level: Metadata, verbs: [get, watch]}', alice, false],
  ])('a rule on %s matches only its subjects and verbs (case %#)', (_field, ruleText, user, matches) => {
    const p = policyFrom(`apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [${ruleText}]`);
    expect(evaluatePolicy(p, { user, info: resolveRequestInfo('GET', '/api/v1/namespaces/default/pods') }).level).toBe(matches ? 'Metadata' : 'None');
  });
});
