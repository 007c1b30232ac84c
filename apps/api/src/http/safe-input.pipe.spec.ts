import { DomainError } from '../../../../libs/domain/src';
import { findUnsafeInput, SafeInputPipe } from './safe-input.pipe';

describe(SafeInputPipe.name, () => {
  const sut = new SafeInputPipe();
  const body = (value: unknown) => sut.transform(value, { type: 'body' });
  const refusal = (value: unknown, type: 'body' | 'query' = 'body') => {
    try {
      sut.transform(value, { type });
    } catch (err) {
      return err as DomainError;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    ['NUL', 'a\u0000b'],
    ['escape', 'x\u001b[31m'],
    ['DEL', 'x\u007f'],
    ['a C1 control', 'x\u0085'],
    ['a lone high surrogate', 'x\ud800'],
    ['a lone low surrogate', '\udc00x'],
  ])('refuses %s in a nested value, naming the field and not the value', (_name, bad) => {
    const err = refusal({ values: { user: { title: bad } } });
    expect(err.code).toBe('InvalidInput');
    expect(err.fields).toEqual([{ field: 'values.user.title', message: expect.stringMatching(/control characters/) }]);
    expect(err.message).not.toContain(bad);
  });

  it('names array items by index and checks keys too', () => {
    expect(refusal({ values: { list: ['ok', 'b\u0000'] } }).fields[0].field).toBe('values.list.1');
    expect(refusal({ values: { 'a\u0000': 1 } }).fields[0]).toEqual({ field: 'values', message: expect.stringMatching(/key/) });
    expect(refusal({ values: { 'a\nb': 1 } }).fields[0].field).toBe('values');
    expect(refusal({ cursor: '\u0000' }, 'query').fields[0].field).toBe('cursor');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the reserved key %s anywhere, instead of letting it be stripped', (key) => {
    const value = JSON.parse(`{"values": {"user": {"${key}": {"a": 1}}}}`);
    expect(refusal(value).fields).toEqual([{ field: `values.user.${key}`, message: expect.stringMatching(/reserved key/) }]);
  });

  it('keeps tabs, newlines, other Unicode and keys named like Object.prototype members', () => {
    const value = { description: 'line 1\r\n\tline 2 – ünïcödé 🎉', values: { toString: 'x', valueOf: { hasOwnProperty: [1] } } };
    expect(body(value)).toBe(value);
  });

  it('leaves route parameters and custom arguments to their own pipes', () => {
    expect(sut.transform('\u0000', { type: 'param' })).toBe('\u0000');
  });

  it('finds nothing in scalars and empty containers', () => {
    expect(findUnsafeInput(42)).toBeNull();
    expect(findUnsafeInput(null)).toBeNull();
    expect(findUnsafeInput({ a: [], b: {} })).toBeNull();
  });
});
