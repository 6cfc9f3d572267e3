/**
 * CEL for structured authentication, as kube-apiserver evaluates it (apiserver/pkg/authentication/cel):
 * claim expressions see `claims: map(string, dyn)`, user validation rules see a typed `user`
 * (username, uid: string; groups: list(string); extra: map(string, list(string))). Optionals
 * (`claims.?x.orValue(y)`), `has()`, the macros and the string library come from @marcbachmann/cel-js; the
 * Kubernetes pieces it lacks (`sets.*`, `replace`, `charAt`, property-name escaping) are added here.
 *
 * Every expression is compiled and type-checked when the configuration is loaded, never per token.
 * Cost is capped at compile time: expression length, AST size and depth, and comprehension nesting
 * (cel-js cannot interrupt an evaluation, so the shape of the expression is what bounds its work; the
 * input is bounded by MAX_TOKEN_BYTES).
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';

export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_COMPREHENSION_NESTING = 2;
const LIMITS = { maxAstNodes: 500, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 16 };
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

export type CelVariable = 'claims' | 'user';
/** What the expression must produce: `bool` is strict (a `dyn` result is refused, as kube-apiserver does). */
export type CelResultType = 'bool' | 'string' | 'string-or-list';

class KubernetesSets {}

function setOf(list: unknown): Set<unknown> {
  return new Set(list as unknown[]);
}

function baseEnvironment(): Environment {
  return (
    new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false, limits: LIMITS })
      // Kubernetes' sets library (k8s.io/apiserver/pkg/cel/library/sets.go).
      .registerType('KubernetesSets', KubernetesSets)
      .registerConstant('sets', 'KubernetesSets', new KubernetesSets())
      .registerFunction({ name: 'equivalent', receiverType: 'KubernetesSets', returnType: 'bool', params: [{ name: 'a', type: 'list' }, { name: 'b', type: 'list' }], handler: (_s: unknown, a: unknown, b: unknown) => { const x = setOf(a); const y = setOf(b); return x.size === y.size && [...x].every((v) => y.has(v)); } })
      .registerFunction({ name: 'contains', receiverType: 'KubernetesSets', returnType: 'bool', params: [{ name: 'a', type: 'list' }, { name: 'b', type: 'list' }], handler: (_s: unknown, a: unknown, b: unknown) => { const x = setOf(a); return (b as unknown[]).every((v) => x.has(v)); } })
      .registerFunction({ name: 'intersects', receiverType: 'KubernetesSets', returnType: 'bool', params: [{ name: 'a', type: 'list' }, { name: 'b', type: 'list' }], handler: (_s: unknown, a: unknown, b: unknown) => { const x = setOf(a); return (b as unknown[]).some((v) => x.has(v)); } })
      // cel-go ext strings functions missing from cel-js.
      .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) => s.replaceAll(from, to))
      .registerFunction('string.charAt(int): string', (s: string, i: bigint) => s.charAt(Number(i)))
  );
}

const CLAIMS_ENV = baseEnvironment().registerVariable('claims', 'map<string, dyn>');
const USER_ENV = baseEnvironment().registerVariable('user', { schema: { username: 'string', uid: 'string', groups: 'list<string>', extra: 'map<string, list<string>>' } });

export interface CompiledExpression {
  readonly source: string;
  evaluate(activation: Record<string, unknown>): unknown;
}

export type CompileResult = { readonly ok: true; readonly expression: CompiledExpression } | { readonly ok: false; readonly error: string };

type AstNode = { readonly op: string; readonly args: unknown };

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string';
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => (isNode(v) ? [v] : Array.isArray(v) ? children(v) : []));
  return isNode(value) ? [value] : [];
}

/** Deepest nesting of comprehension macros in the AST. */
function comprehensionNesting(node: unknown): number {
  if (!isNode(node)) return 0;
  const own = node.op === 'rcall' && Array.isArray(node.args) && COMPREHENSIONS.has(node.args[0] as string) ? 1 : 0;
  return own + Math.max(0, ...children(node.args).map(comprehensionNesting));
}

/** Every `claims.<name>` / `claims.?<name>` / `claims["name"]` reference, syntactically (validation vector 111). */
export function referencedClaims(source: string): Set<string> {
  const found = new Set<string>();
  let ast: unknown;
  try {
    ast = CLAIMS_ENV.parse(source).ast;
  } catch {
    return found;
  }
  const visit = (node: unknown): void => {
    if (!isNode(node)) return;
    const args = node.args as unknown[];
    if (['.', '.?', '[]', '[?]'].includes(node.op) && Array.isArray(args)) {
      const [target, key] = args;
      if (isNode(target) && target.op === 'id' && target.args === 'claims') {
        if (typeof key === 'string') found.add(key);
        else if (isNode(key) && key.op === 'value' && typeof key.args === 'string') found.add(key.args);
      }
    }
    for (const child of children(node.args)) visit(child);
  };
  visit(ast);
  return found;
}

/**
 * `x.?y.orValue(true)`: cel-go infers bool from the fallback, cel-js infers dyn. Accept it for bool rules
 * (kube-apiserver's own service-account example uses it, vector 87).
 */
function orValueOfBool(ast: unknown): boolean {
  if (!isNode(ast) || ast.op !== 'rcall' || !Array.isArray(ast.args) || ast.args[0] !== 'orValue') return false;
  const [fallback] = (ast.args[2] as unknown[]) ?? [];
  return isNode(fallback) && fallback.op === 'value' && typeof fallback.args === 'boolean';
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function typeMatches(type: string, expected: CelResultType): boolean {
  if (expected === 'bool') return type === 'bool';
  if (expected === 'string') return type === 'string' || type === 'dyn';
  return type === 'string' || type === 'dyn' || type === 'list<string>' || type === 'list' || type === 'list<dyn>';
}

const EXPECTED_TEXT: Record<CelResultType, string> = { bool: 'bool', string: 'string', 'string-or-list': 'string or list of strings' };

/** Parse, type-check and bound one expression. Errors are written for the person editing the file. */
export function compileExpression(source: string, variable: CelVariable, expected: CelResultType): CompileResult {
  if (source.length > MAX_EXPRESSION_LENGTH) return { ok: false, error: `expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  const env = variable === 'claims' ? CLAIMS_ENV : USER_ENV;
  let program: ParseResult;
  try {
    program = env.parse(source);
  } catch (err) {
    return { ok: false, error: `compilation failed: ${firstLine((err as Error).message)}` };
  }
  const checked = program.check();
  if (!checked.valid) return { ok: false, error: `compilation failed: ${firstLine(checked.error?.message ?? 'type check failed')}` };
  if (!typeMatches(String(checked.type), expected) && !(expected === 'bool' && orValueOfBool(program.ast))) return { ok: false, error: `must evaluate to ${EXPECTED_TEXT[expected]}` };
  if (comprehensionNesting(program.ast) > MAX_COMPREHENSION_NESTING) {
    return { ok: false, error: `comprehensions (all, exists, exists_one, map, filter) may be nested at most ${MAX_COMPREHENSION_NESTING} deep` };
  }
  return { ok: true, expression: { source, evaluate: (activation) => program(activation) } };
}

const CEL_RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop',
  'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/** Kubernetes' CEL property-name escaping (apiserver/pkg/cel/escaping.go); undefined when the name cannot be escaped. */
export function escapePropertyName(name: string): string | undefined {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_./-][a-zA-Z0-9_./-]*$/.test(name)) return undefined;
  return name.replaceAll('__', '__underscores__').replaceAll('.', '__dot__').replaceAll('-', '__dash__').replaceAll('/', '__slash__');
}

/**
 * JSON claims → the CEL `claims` value. Each key that needs escaping is also reachable under its escaped
 * name (`kubernetes.io` as `claims.kubernetes__dot__io`), so field selection and has() work on such keys.
 */
export function claimsActivation(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(claimsActivation);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) out[key] = claimsActivation(child);
  for (const key of Object.keys(value as Record<string, unknown>)) {
    const escaped = escapePropertyName(key);
    if (escaped !== undefined && escaped !== key && !(escaped in out)) out[escaped] = out[key];
  }
  return out;
}

/** cel-js messages start upper-case ("No such key: a"); cel-go's do not ("no such key: a"). */
export function celErrorText(err: unknown): string {
  const text = firstLine(err instanceof Error ? err.message : String(err));
  return text.charAt(0).toLowerCase() + text.slice(1);
}
