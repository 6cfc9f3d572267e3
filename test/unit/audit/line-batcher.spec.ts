import { describe, expect, it } from '@jest/globals';
import { LineBatcher } from '../../../src/audit/access-log.service.js';

function sink() {
  const writes: string[] = [];
  return { writes, out: { write: (chunk: string) => writes.push(chunk) } };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('LineBatcher', () => {
  it('writes the lines of one event-loop turn in a single write, in order', async () => {
    const { writes, out } = sink();
    const lines = new LineBatcher(out);
    lines.write('a\n');
    lines.write('b\n');
    lines.write('c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
  });

  it('starts a new batch in the next turn', async () => {
    const { writes, out } = sink();
    const lines = new LineBatcher(out);
    lines.write('a\n');
    await nextTurn();
    lines.write('b\n');
    await nextTurn();
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('flush() writes what is pending at once, and nothing twice', async () => {
    const { writes, out } = sink();
    const lines = new LineBatcher(out);
    lines.write('a\n');
    lines.flush();
    expect(writes).toEqual(['a\n']);
    await nextTurn();
    lines.flush();
    expect(writes).toEqual(['a\n']);
  });
});
