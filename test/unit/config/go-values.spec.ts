import { describe, expect, it } from '@jest/globals';
import { formatGoStringSlice, goSortedSet, parseGoBool, parseGoDuration, parseGoFloat32, parseGoInt, readCsvRecord } from '../../../src/config/go-values.js';

describe('Go value syntax', () => {
  it.each([
    ['10', 10], ['0.5', 0.5], ['+2.', 2], ['.25', 0.25], ['1e2', 100], ['-3', -3],
  ])('strconv.ParseFloat(s, 32) reads %j as %s', (text, value) => {
    expect(parseGoFloat32(text)).toEqual({ ok: true, value });
  });

  it.each(['', 'fast', '1,5', 'NaN', 'Inf', '0x10', '1e'])('strconv.ParseFloat(s, 32) refuses %j', (text) => {
    expect(parseGoFloat32(text)).toEqual({ ok: false, error: `strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax` });
  });

  it('a float32 out of range is refused', () => {
    expect(parseGoFloat32('1e39')).toEqual({ ok: false, error: 'strconv.ParseFloat: parsing "1e39": value out of range' });
  });

  it.each([
    ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
    ['0', false], ['f', false], ['F', false], ['FALSE', false], ['false', false], ['False', false],
  ])('strconv.ParseBool reads %j as %s', (text, value) => {
    expect(parseGoBool(text)).toEqual({ ok: true, value });
  });

  it.each(['yes', 'on', '', 'tRUE'])('strconv.ParseBool refuses %j with Go\'s message', (text) => {
    expect(parseGoBool(text)).toEqual({ ok: false, error: `strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax` });
  });

  it.each([
    ['8080', 8080], ['+42', 42], ['-1', -1], ['0', 0], ['0x1F', 31], ['0o17', 15], ['017', 15], ['0b101', 5],
    ['1_000', 1000], ['0x_ff', 255], ['0_17', 15], ['9223372036854775807', 9223372036854775807],
  ])('strconv.ParseInt(s, 0, 64) reads %j as %d', (text, value) => {
    expect(parseGoInt(text)).toEqual({ ok: true, value });
  });

  it.each(['', 'abc', '80a', '08', '0x', '_1', '1_', '1__0', '1.5', ' 1', '-'])('strconv.ParseInt refuses %j as invalid syntax', (text) => {
    expect(parseGoInt(text)).toEqual({ ok: false, error: `strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax` });
  });

  it('strconv.ParseInt refuses a value beyond int64 as out of range', () => {
    expect(parseGoInt('9223372036854775808')).toEqual({ ok: false, error: 'strconv.ParseInt: parsing "9223372036854775808": value out of range' });
  });

  it.each([
    ['0', 0], ['-0', 0], ['+0', 0], ['0s', 0], ['50ms', 50], ['10s', 10_000], ['1m30s', 90_000], ['1.5h', 5_400_000],
    ['.5s', 500], ['1.s', 1000], ['-1s', -1000], ['500us', 0.5], ['500µs', 0.5], ['500μs', 0.5], ['1000000ns', 1], ['2h45m', 9_900_000],
  ])('time.ParseDuration reads %j as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['ten', 'time: invalid duration "ten"'],
    ['.s', 'time: invalid duration ".s"'],
    ['-', 'time: invalid duration "-"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h30', 'time: missing unit in duration "1h30"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ])('time.ParseDuration refuses %j with %j', (text, error) => {
    expect(parseGoDuration(text)).toEqual({ ok: false, error });
  });

  it.each([
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    ['a, b', ['a', ' b']],
    ['a,,b', ['a', '', 'b']],
    ['a,', ['a', '']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['a\nb', ['a']],
  ])('one CSV record %j is %j', (text, fields) => {
    expect(readCsvRecord(text)).toEqual({ ok: true, value: fields });
  });

  it.each([
    ['a"b', 'parse error on line 1, column 2: bare " in non-quoted field'],
    ['"ab', 'parse error on line 1, column 4: extraneous or missing " in quoted-field'],
    ['"a"b', 'parse error on line 1, column 4: extraneous or missing " in quoted-field'],
  ])('a malformed CSV record %j is refused', (text, error) => {
    expect(readCsvRecord(text)).toEqual({ ok: false, error });
  });
});

describe('Go string sets in messages', () => {
  it.each([
    [['c', 'a', 'b', 'a'], ['a', 'b', 'c']],
    [['https://z', 'a', 'B'], ['B', 'a', 'https://z']],
    // Go compares UTF-8 bytes: U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80), though UTF-16 says otherwise.
    [['\u{1F600}', '\uFF5E'], ['\uFF5E', '\u{1F600}']],
  ])('sets.List(%j) is %j', (values, sorted) => {
    expect(goSortedSet(values)).toEqual(sorted);
  });

  it.each([
    [[], '[]'],
    [['a'], '[a]'],
    [['a', 'b c', ''], '[a b c ]'],
  ])('%j prints as %j', (values, text) => {
    expect(formatGoStringSlice(values)).toBe(text);
  });
});
