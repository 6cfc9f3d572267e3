/**
 * `kube-oidc-proxy check-token`: the identity a token maps to under a configuration, or every reason it
 * is refused, without starting the server. It discovers the selected issuer and fetches its keys like the
 * server, then runs each verification step on its own. The token is read from --token-file (or `-` for
 * stdin; --token works too but puts the token in the process list) and is never printed.
 */
import { AuthenticatorSet, unknownIssuerMessage } from './auth/authenticator-set.js';
import { decodeCompact } from './auth/token-claims.js';
import type { UserInfo } from './auth/user-info.js';
import { parseArgv } from './config/argv-parser.js';
import { ConfigContext, type ConfigEnvironment, NODE_CONFIG_ENVIRONMENT } from './config/config-context.js';
import { authenticationFromFlags, redactSecrets } from './config/config-parser.js';
import { FLAG_DEFINITIONS, type FlagDefinition } from './config/flag-definitions.js';

const CHECK_TOKEN_FLAGS: readonly FlagDefinition[] = [
  ...(FLAG_DEFINITIONS as readonly FlagDefinition[]).filter((f) => f.section === 'OIDC' || f.name === 'token' || f.name === 'readiness-require-all-issuers'),
  { section: 'Misc', name: 'token-file', type: 'string', default: '', help: 'File holding the token to check; - reads standard input.' },
  { section: 'Misc', name: 'help', shorthand: 'h', type: 'bool', default: 'false', help: 'Help for check-token.' },
];

export const CHECK_TOKEN_USAGE = `Prints the identity a token maps to, or every reason it is refused, without starting the server.

Usage:
  kube-oidc-proxy check-token --authentication-config FILE --token-file FILE|-
  kube-oidc-proxy check-token --oidc-issuer-url URL --oidc-client-id ID [--oidc-* ...] --token-file FILE|-

Exit status: 0 accepted, 1 refused, 2 bad usage or configuration.
`;

export interface CheckTokenIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  readonly env?: ConfigEnvironment;
}

export interface CheckTokenResult {
  readonly accepted: boolean;
  readonly user?: UserInfo;
  readonly issuer?: string;
  readonly reasons: readonly string[];
}

export async function runCheckToken(argv: readonly string[], io: CheckTokenIo): Promise<number> {
  const flags = parseArgv(argv, CHECK_TOKEN_FLAGS);
  if (flags.value('help') === true) {
    io.out(CHECK_TOKEN_USAGE);
    return 0;
  }
  const env = io.env ?? NODE_CONFIG_ENVIRONMENT;
  const ctx = new ConfigContext(flags, env);
  for (const error of flags.errors) ctx.error(error);
  const { authentication } = authenticationFromFlags(ctx);
  const tokenFile = String(flags.value('token-file') ?? '');
  let token = flags.string('token');
  if (tokenFile !== '' && token !== '') ctx.error('--token and --token-file are mutually exclusive');
  else if (tokenFile === '-') token = await io.readStdin();
  else if (tokenFile !== '') token = ctx.readFile('token-file' as never, tokenFile) ?? '';
  else if (token === '') ctx.error('a token is required: --token-file FILE (or - for standard input), or --token');
  const secrets = [token.trim()];
  for (const warning of redactSecrets(ctx.warnings, flags, secrets)) io.err(`warning: ${warning}\n`);
  if (ctx.errors.length > 0) {
    io.err(`Error: invalid configuration (${ctx.errors.length} problem${ctx.errors.length === 1 ? '' : 's'}):\n${redactSecrets(ctx.errors, flags, secrets).map((e) => `  - ${e}\n`).join('')}`);
    return 2;
  }
  const result = await checkToken(authentication.jwt, token.trim());
  if (result.accepted) {
    io.out(`${JSON.stringify({ accepted: true, issuer: result.issuer, user: result.user }, null, 2)}\n`);
    return 0;
  }
  io.out(`${JSON.stringify({ accepted: false, ...(result.issuer ? { issuer: result.issuer } : {}), reasons: result.reasons }, null, 2)}\n`);
  return 1;
}

/** Select the issuer by `iss`, discover it, and collect every reason the token is refused. */
export async function checkToken(specs: Parameters<typeof AuthenticatorSet.build>[0], token: string): Promise<CheckTokenResult> {
  const decoded = decodeCompact(token);
  if (!decoded) return { accepted: false, reasons: ['invalid bearer token: not a compact JWT (three base64url JSON parts, at most 16 KiB)'] };
  const { set } = AuthenticatorSet.build(specs, 'check-token', { retryMaxMs: 1_000 });
  const authenticator = set.select(decoded);
  if (!authenticator) {
    const configured = set.authenticators.map((a) => a.issuer).join(', ');
    return { accepted: false, reasons: [`${unknownIssuerMessage(decoded)} (configured: ${configured})`] };
  }
  try {
    await authenticator.start();
    const { user, reasons } = await authenticator.diagnose(token, decoded);
    return user ? { accepted: true, issuer: authenticator.issuer, user, reasons: [] } : { accepted: false, issuer: authenticator.issuer, reasons };
  } finally {
    authenticator.stop();
  }
}
