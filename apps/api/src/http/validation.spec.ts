import { IsInt, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { DomainError } from '../../../../libs/domain/src';
import { createValidationPipe, parseIfMatch, UuidParam } from './validation';

class Inner {
  @IsInt() n: number;
}
class Body {
  @IsString() name: string;
  @ValidateNested() @Type(() => Inner) inner: Inner;
}

describe('validation', () => {
  describe(UuidParam.name, () => {
    const sut = new UuidParam();
    it('accepts and lower-cases UUIDs', () => {
      expect(sut.transform('0B7C5F0E-3A54-4F61-9D6E-2B4F2F3B9A10', { type: 'param', data: 'userId' })).toBe('0b7c5f0e-3a54-4f61-9d6e-2b4f2f3b9a10');
    });
    it.each(['1', 'not-a-uuid', '0b7c5f0e3a544f619d6e2b4f2f3b9a10', '0b7c5f0e-3a54-4f61-9d6e-2b4f2f3b9a10x', "' OR 1=1", ''])('refuses %j naming the parameter', (v) => {
      expect(() => sut.transform(v, { type: 'param', data: 'deploymentId' })).toThrow(
        expect.objectContaining({ code: 'InvalidInput', fields: [{ field: 'deploymentId', message: 'must be a UUID' }] }),
      );
    });
  });

  describe(parseIfMatch.name, () => {
    it.each([
      [undefined, undefined],
      ['', undefined],
      ['3', 3],
      ['"3"', 3],
      ['W/"12"', 12],
      [' 7 ', 7],
    ])('reads %j as %j', (h, n) => expect(parseIfMatch(h)).toBe(n));
    it.each(['abc', '-1', '1.5', '"', '*', '1234567890', ['1']])('refuses %j', (h) => {
      expect(() => parseIfMatch(h)).toThrow(DomainError);
    });
  });

  describe(createValidationPipe.name, () => {
    const sut = createValidationPipe();
    const run = (v: unknown) => sut.transform(v, { type: 'body', metatype: Body });

    it('passes a valid body through, transformed', async () => {
      expect(await run({ name: 'x', inner: { n: 1 } })).toBeInstanceOf(Body);
    });

    it('rejects unknown fields, naming them', async () => {
      await expect(run({ name: 'x', inner: { n: 1 }, extra: 1 })).rejects.toMatchObject({ code: 'InvalidInput', fields: [{ field: 'extra', message: 'property extra should not exist' }] });
    });

    it('names nested fields with a dotted path and never echoes values', async () => {
      const err = await run({ name: 42, inner: { n: 'hunter2' } }).catch((e: DomainError) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).fields).toEqual([
        { field: 'name', message: 'must be a string' },
        { field: 'inner.n', message: 'must be an integer number' },
      ]);
      expect(JSON.stringify(err)).not.toContain('hunter2');
    });
  });
});
