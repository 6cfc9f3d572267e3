import { describe, expect, it } from '@jest/globals';
import { BoundedTtlMap } from '../../../src/common/bounded-ttl-map.js';

describe('BoundedTtlMap', () => {
  it('returns a value until its expiry, never after', () => {
    let now = 1000;
    const sut = new BoundedTtlMap<string>(10, () => now);
    sut.set('a', 'x', 1500);
    now = 1499;
    expect(sut.get('a')).toBe('x');
    now = 1500;
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('does not store what is already expired', () => {
    const sut = new BoundedTtlMap<string>(10, () => 1000);
    sut.set('a', 'x', 1000);
    expect(sut.size).toBe(0);
  });

  it('evicts the least recently used entry when full, counting reads as use', () => {
    const sut = new BoundedTtlMap<number>(2, () => 0);
    sut.set('a', 1, 10);
    sut.set('b', 2, 10);
    expect(sut.get('a')).toBe(1);
    sut.set('c', 3, 10);
    expect([sut.get('a'), sut.get('b'), sut.get('c')]).toEqual([1, undefined, 3]);
  });
});
