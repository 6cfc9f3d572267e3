import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { RequestSlot } from '../../../src/common/request-slot.js';

describe('RequestSlot', () => {
  it('keeps one value per owner, and each slot its own', () => {
    const admitted = new RequestSlot<object, string>('admitted');
    const info = new RequestSlot<object, string>('info');
    const a = {};
    const b = {};
    admitted.set(a, 'alice');
    info.set(a, 'GET pods');
    expect(admitted.get(a)).toBe('alice');
    expect(info.get(a)).toBe('GET pods');
    expect(admitted.get(b)).toBeUndefined();
    admitted.set(a, 'bob');
    expect(admitted.get(a)).toBe('bob');
  });

  it('never shows its value in a spread, JSON or util.inspect of the owner (it may hold a credential)', () => {
    const slot = new RequestSlot<object, { authorization: string }>('outbound');
    const req = { url: '/api' };
    slot.set(req, { authorization: 'Bearer secret-token' });
    expect({ ...req }).toEqual({ url: '/api' });
    expect(JSON.stringify(req)).toBe('{"url":"/api"}');
    expect(inspect(req)).not.toContain('secret-token');
    expect(Object.keys(req)).toEqual(['url']);
  });
});
