import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientNode } from '../../../src/common/client-node.js';

const SRC = join(import.meta.dirname, '../../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('@kubernetes/client-node is loaded lazily', () => {
  it('no module under src/ imports it at load time (type-only imports are erased)', () => {
    const offenders = sources(SRC).filter((file) =>
      /^import\s+(?!type\b)[^;]*from\s+'@kubernetes\/client-node'/m.test(readFileSync(file, 'utf8')),
    );
    // A value import here would put about a second back on every start-up, in a cluster included.
    expect(offenders).toEqual([]);
  });

  it('clientNode() gives the package, loaded once', () => {
    const first = clientNode();
    expect(typeof first.KubeConfig).toBe('function');
    expect(clientNode()).toBe(first);
  });
});
