import { describe, expect, it } from '@jest/globals';
import { compileExpression } from '../../../src/auth/cel-expressions.js';

describe('compileExpression', () => {
  it('compiles an expression once: validation and the authenticator that follows share the result', () => {
    const sut = (): ReturnType<typeof compileExpression> => compileExpression('claims.sub + ":" + claims.email', 'claims', 'string');
    const first = sut();
    expect(first.ok).toBe(true);
    expect(sut()).toBe(first);
  });

  it('keeps results apart by variable and expected type, and remembers refusals with their message', () => {
    const asString = compileExpression('claims.sub', 'claims', 'string');
    const asBool = compileExpression('claims.sub', 'claims', 'bool');
    expect(asString.ok).toBe(true);
    expect(asBool).toEqual({ ok: false, error: 'must evaluate to bool' });
    expect(compileExpression('claims.sub', 'claims', 'bool')).toBe(asBool);
    expect(compileExpression('user.username', 'claims', 'string').ok).toBe(false);
    expect(compileExpression('user.username', 'user', 'string').ok).toBe(true);
  });

  it('evaluates the shared compiled program against each activation separately', () => {
    const compiled = compileExpression('claims.sub', 'claims', 'string');
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.expression.evaluate({ claims: { sub: 'alice' } })).toBe('alice');
    expect(compileExpression('claims.sub', 'claims', 'string').ok && compileExpression('claims.sub', 'claims', 'string')).toBe(compiled);
    expect(compiled.expression.evaluate({ claims: { sub: 'bob' } })).toBe('bob');
  });
});
