/**
 * The command line: parse and validate every flag once, then start. A bad configuration never starts a
 * half-working proxy: every problem is printed by flag name (never with secret values) and the exit code is 1.
 */
import { bootstrap } from './bootstrap.js';
import { parseConfig } from './config/config-parser.js';
import { renderHelp, renderVersion } from './config/help-text.js';
import { resolveUpstreamTarget } from './upstream/upstream-target.js';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'check-token') {
    const { runCheckToken } = await import('./check-token.js');
    return runCheckToken(argv.slice(1), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
    });
  }
  const parsed = parseConfig(argv);
  if (parsed.action === 'help') {
    process.stdout.write(renderHelp());
    return 0;
  }
  if (parsed.action === 'version') {
    process.stdout.write(renderVersion());
    return 0;
  }
  for (const warning of parsed.warnings) process.stderr.write(`warning: ${warning}\n`);
  // Where the API server is and with which credentials is part of the configuration: report it with the rest.
  const errors = [...parsed.errors, ...(parsed.config ? resolveUpstreamTarget(parsed.config.upstream).errors : [])];
  if (errors.length > 0 || !parsed.config) {
    process.stderr.write(`Error: invalid configuration (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n`);
    for (const error of errors) process.stderr.write(`  - ${error}\n`);
    process.stderr.write("Run 'kube-oidc-proxy --help' for usage.\n");
    return 1;
  }

  const proxy = await bootstrap(parsed.config);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`received ${signal} again: exiting immediately\n`);
      process.exit(1);
    }
    proxy.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
