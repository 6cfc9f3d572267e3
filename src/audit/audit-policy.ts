/**
 * The `audit.k8s.io/v1` Policy, read and checked the way kube-apiserver does
 * (k8s.io/apiserver/pkg/audit/policy/{reader,checker}.go, apis/audit/validation): every rule is checked and
 * every problem reported at once, then requests are matched against the rules in order, first match wins,
 * no match means level None.
 *
 * One deliberate difference: kube-apiserver ignores unknown fields; we refuse them, because a misspelt
 * `userGroup:` or `namespace:` silently widens or narrows what a SIEM receives.
 */
import { clientNode } from '../common/client-node.js';
import type { RequestInfo } from '../proxy/request-info.js';

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

export const AUDIT_STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

export interface GroupResources {
  /** '' is the core group. */
  readonly group: string;
  /** Empty: every resource of the group. Otherwise a resource, resource/subresource, or a wildcard form (see ruleMatchesResource). */
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
}

export interface PolicyRule {
  readonly level: AuditLevel;
  readonly users: readonly string[];
  readonly userGroups: readonly string[];
  readonly verbs: readonly string[];
  readonly resources: readonly GroupResources[];
  readonly namespaces: readonly string[];
  readonly nonResourceURLs: readonly string[];
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields?: boolean;
}

export interface AuditPolicy {
  readonly rules: readonly PolicyRule[];
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields: boolean;
}

/** What the policy says about one request. */
export interface PolicyDecision {
  readonly level: AuditLevel;
  readonly omitStages: ReadonlySet<AuditStage>;
  readonly omitManagedFields: boolean;
}

/** Who made the request and what it is: the subset of authorizer.Attributes the checker reads. */
export interface PolicyAttributes {
  readonly user: { readonly username: string; readonly groups: readonly string[] };
  readonly info: RequestInfo;
}

export type PolicyParseResult = { readonly ok: true; readonly policy: AuditPolicy } | { readonly ok: false; readonly errors: readonly string[] };

const POLICY_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const RULE_KEYS = new Set(['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields']);
const GROUP_RESOURCE_KEYS = new Set(['group', 'resources', 'resourceNames']);
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(value: Record<string, unknown>, known: ReadonlySet<string>, where: string, errors: string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) errors.push(`${where}.${key}: unknown field`);
  }
}

function stringList(value: unknown, where: string, errors: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    errors.push(`${where}: must be a list of strings`);
    return [];
  }
  return value as string[];
}

function optionalBool(value: unknown, where: string, errors: string[]): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    errors.push(`${where}: must be true or false`);
    return undefined;
  }
  return value;
}

function stages(value: unknown, where: string, errors: string[]): AuditStage[] {
  const list = stringList(value, where, errors);
  list.forEach((stage, i) => {
    if (!(AUDIT_STAGES as readonly string[]).includes(stage)) errors.push(`${where}[${i}]: unsupported stage "${stage}", must be one of ${AUDIT_STAGES.join(', ')}`);
  });
  return list.filter((s): s is AuditStage => (AUDIT_STAGES as readonly string[]).includes(s));
}

function groupResources(value: unknown, where: string, errors: string[]): GroupResources[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(`${where}: must be a list`);
    return [];
  }
  return value.map((entry, i): GroupResources => {
    const at = `${where}[${i}]`;
    if (!isObject(entry)) {
      errors.push(`${at}: must be an object with group, resources and resourceNames`);
      return { group: '', resources: [], resourceNames: [] };
    }
    unknownKeys(entry, GROUP_RESOURCE_KEYS, at, errors);
    const group = entry['group'] ?? '';
    if (typeof group !== 'string') errors.push(`${at}.group: must be a string`);
    else if (group !== '' && !DNS1123_SUBDOMAIN.test(group)) errors.push(`${at}.group: "${group}" is not a valid API group name`);
    const resources = stringList(entry['resources'], `${at}.resources`, errors);
    const resourceNames = stringList(entry['resourceNames'], `${at}.resourceNames`, errors);
    resources.forEach((res, j) => {
      const field = `${at}.resources[${j}]`;
      if (res === '') errors.push(`${field}: must not be empty`);
      else if (res === '*/*') errors.push(`${field}: "*/*" is not supported, use "*" for all resources and "*/<subresource>" for a subresource of every resource`);
      else if (res.split('/').length > 2) errors.push(`${field}: "${res}" has more than one "/"`);
      else if (res.includes('*') && !['*'].includes(res) && !res.startsWith('*/') && !res.endsWith('/*')) errors.push(`${field}: "${res}": "*" may only be "*", "*/<subresource>" or "<resource>/*"`);
      if (resourceNames.length > 0 && res.includes('*')) errors.push(`${field}: wildcard "${res}" cannot be combined with resourceNames`);
    });
    return { group: typeof group === 'string' ? group : '', resources, resourceNames };
  });
}

function rule(value: unknown, where: string, errors: string[]): PolicyRule | undefined {
  if (!isObject(value)) {
    errors.push(`${where}: must be an object`);
    return undefined;
  }
  unknownKeys(value, RULE_KEYS, where, errors);
  const level = value['level'];
  if (level === undefined || level === null || level === '') errors.push(`${where}.level: required`);
  else if (!(AUDIT_LEVELS as readonly unknown[]).includes(level)) errors.push(`${where}.level: unsupported level "${String(level)}", must be one of ${AUDIT_LEVELS.join(', ')}`);

  const nonResourceURLs = stringList(value['nonResourceURLs'], `${where}.nonResourceURLs`, errors);
  nonResourceURLs.forEach((url, i) => {
    const field = `${where}.nonResourceURLs[${i}]`;
    if (!url.startsWith('/') && url !== '*') errors.push(`${field}: "${url}" must start with "/"`);
    if (url.slice(0, -1).includes('*')) errors.push(`${field}: "${url}": "*" is only allowed at the end`);
  });
  const resources = groupResources(value['resources'], `${where}.resources`, errors);
  const namespaces = stringList(value['namespaces'], `${where}.namespaces`, errors);
  if (nonResourceURLs.length > 0 && (resources.length > 0 || namespaces.length > 0)) {
    errors.push(`${where}: rules cannot apply to both regular resources (resources, namespaces) and nonResourceURLs`);
  }
  const omitManagedFields = optionalBool(value['omitManagedFields'], `${where}.omitManagedFields`, errors);
  return {
    level: level as AuditLevel,
    users: stringList(value['users'], `${where}.users`, errors),
    userGroups: stringList(value['userGroups'], `${where}.userGroups`, errors),
    verbs: stringList(value['verbs'], `${where}.verbs`, errors),
    resources,
    namespaces,
    nonResourceURLs,
    omitStages: stages(value['omitStages'], `${where}.omitStages`, errors),
    ...(omitManagedFields === undefined ? {} : { omitManagedFields }),
  };
}

/** YAML or JSON text of an `audit.k8s.io/v1` Policy → the policy, or every problem found (never the whole text). */
export function parseAuditPolicy(text: string): PolicyParseResult {
  let doc: unknown;
  try {
    doc = clientNode().loadYaml<unknown>(text);
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split('\n')[0] ?? 'unreadable') : 'unreadable';
    return { ok: false, errors: [`not valid YAML or JSON: ${reason}`] };
  }
  if (!isObject(doc)) return { ok: false, errors: ['must be an audit.k8s.io/v1 Policy object'] };
  const errors: string[] = [];
  if (doc['apiVersion'] !== 'audit.k8s.io/v1') errors.push(`apiVersion: must be audit.k8s.io/v1 (got "${String(doc['apiVersion'])}")`);
  if (doc['kind'] !== 'Policy') errors.push(`kind: must be Policy (got "${String(doc['kind'])}")`);
  unknownKeys(doc, POLICY_KEYS, 'policy', errors);
  const omitStages = stages(doc['omitStages'], 'omitStages', errors);
  const omitManagedFields = optionalBool(doc['omitManagedFields'], 'omitManagedFields', errors) ?? false;
  const rawRules = doc['rules'];
  const rules: PolicyRule[] = [];
  if (rawRules !== undefined && rawRules !== null && !Array.isArray(rawRules)) errors.push('rules: must be a list');
  else if (!rawRules || rawRules.length === 0) errors.push('rules: a policy with no rules would audit nothing (kube-apiserver refuses it too)');
  else rawRules.forEach((r, i) => {
    const parsed = rule(r, `rules[${i}]`, errors);
    if (parsed) rules.push(parsed);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, policy: { rules, omitStages, omitManagedFields } };
}

function ruleMatchesResource(r: PolicyRule, info: RequestInfo): boolean {
  // A cluster-scoped request has namespace "": `namespaces: [""]` selects exactly those.
  if (r.namespaces.length > 0 && !r.namespaces.includes(info.namespace ?? '')) return false;
  if (r.resources.length === 0) return true;
  const group = info.apiGroup ?? '';
  const resource = info.resource ?? '';
  const subresource = info.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  const name = info.name ?? '';
  for (const gr of r.resources) {
    if (gr.group !== group) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
    for (const res of gr.resources) {
      if (res === combined || res === '*') return true;
      if (subresource && res.startsWith('*/') && res.slice(2) === subresource) return true;
      // `pods/*` matches pods and all of its subresources, as in kube-apiserver.
      if (res.endsWith('/*') && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

function ruleMatchesNonResource(r: PolicyRule, path: string): boolean {
  return r.nonResourceURLs.some((spec) => spec === '*' || spec === path || (spec.endsWith('*') && path.startsWith(spec.slice(0, -1))));
}

export function ruleMatches(r: PolicyRule, attrs: PolicyAttributes): boolean {
  if (r.users.length > 0 && !r.users.includes(attrs.user.username)) return false;
  if (r.userGroups.length > 0 && !attrs.user.groups.some((g) => r.userGroups.includes(g))) return false;
  if (r.verbs.length > 0 && !r.verbs.includes(attrs.info.verb)) return false;
  if (r.namespaces.length > 0 || r.resources.length > 0 || r.nonResourceURLs.length > 0) {
    return attrs.info.isResourceRequest
      ? r.nonResourceURLs.length === 0 && ruleMatchesResource(r, attrs.info)
      : r.resources.length === 0 && r.namespaces.length === 0 && ruleMatchesNonResource(r, attrs.info.path);
  }
  return true;
}

/** Each rule's decision (and the no-match one), built once per loaded policy: evaluation allocates nothing. */
const decisions = new WeakMap<AuditPolicy, { readonly byRule: readonly PolicyDecision[]; readonly none: PolicyDecision }>();

function decisionsOf(policy: AuditPolicy): { readonly byRule: readonly PolicyDecision[]; readonly none: PolicyDecision } {
  let built = decisions.get(policy);
  if (!built) {
    built = {
      byRule: policy.rules.map((r) => ({
        level: r.level,
        omitStages: new Set([...policy.omitStages, ...r.omitStages]),
        omitManagedFields: r.omitManagedFields ?? policy.omitManagedFields,
      })),
      none: { level: 'None', omitStages: new Set(policy.omitStages), omitManagedFields: policy.omitManagedFields },
    };
    decisions.set(policy, built);
  }
  return built;
}

/** The first matching rule decides; without one the request is not audited. Stages omitted by the policy apply to every rule. */
export function evaluatePolicy(policy: AuditPolicy, attrs: PolicyAttributes): PolicyDecision {
  const { byRule, none } = decisionsOf(policy);
  for (let i = 0; i < policy.rules.length; i++) {
    if (ruleMatches(policy.rules[i]!, attrs)) return byRule[i]!;
  }
  return none;
}
