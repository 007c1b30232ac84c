import { TemplateVersionEntity } from '../../../persistence/src';
import { DomainError } from '../errors';
import { SecretBox, ValuesValidator } from '../values';
import { assertValuesValid, checkUserValuesShape, MAX_VALUES_DEPTH, mergeValues } from './deployment-values';

const template = (over: Partial<TemplateVersionEntity> = {}): TemplateVersionEntity => ({
  id: 'tpl-1',
  productId: 'p-1',
  version: '1.0.0',
  chartRef: 'oci://r.example/webapp',
  chartVersion: '1.0.0',
  chartDigest: null,
  defaultValues: { replicas: 1, user: { title: 'default', theme: 'light' }, caelus: { deploymentUid: '', domainName: '' } },
  valuesSchema: {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      user: {
        type: 'object',
        additionalProperties: false,
        properties: { title: { type: 'string', maxLength: 20 }, theme: { enum: ['light', 'dark'] }, adminPassword: { type: 'string', minLength: 8, 'x-caelus-secret': true } },
      },
      caelus: { type: 'object', properties: { deploymentUid: { type: 'string', minLength: 1 }, domainName: { type: 'string', minLength: 1 } } },
    },
  },
  capabilities: {},
  createdAt: new Date(),
  deletedAt: null,
  ...over,
});
const system = { deploymentUid: 'webapp-ada-abc123', domainName: 'ada.example.com' };

describe('deployment values', () => {
  describe(mergeValues.name, () => {
    it('layers defaults, then the user values under "user", then the system overrides', () => {
      const sut = mergeValues(template(), { title: 'mine' }, system);
      expect(sut).toEqual({ replicas: 1, user: { title: 'mine', theme: 'light' }, caelus: system });
    });

    it('does not let user values reach outside "user" or override the system values', () => {
      const sut = mergeValues(template(), { replicas: 50, caelus: { deploymentUid: 'other' } }, system);
      expect(sut.replicas).toBe(1);
      expect(sut.caelus).toEqual(system);
      expect((sut.user as Record<string, unknown>).replicas).toBe(50);
    });

    it('takes only the uid and domain from a whole deployment row', () => {
      const sut = mergeValues(template(), {}, { ...system, userValues: { x: 1 }, id: 'd' } as never);
      expect(sut.caelus).toEqual(system);
    });

    it('copes with a template without defaults', () => {
      expect(mergeValues(template({ defaultValues: undefined as never }), { a: 1 }, system)).toEqual({ user: { a: 1 }, caelus: system });
    });
  });

  describe(checkUserValuesShape.name, () => {
    it('accepts an ordinary object', () => expect(checkUserValuesShape({ a: { b: [1] } })).toEqual([]));
    it.each([[null], [[]], ['x'], [1]])('rejects %j', (v) => expect(checkUserValuesShape(v)).toEqual([{ field: 'values', message: 'must be a JSON object' }]));
    it('rejects values nested too deep', () => {
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < MAX_VALUES_DEPTH; i++) deep = { a: deep };
      expect(checkUserValuesShape(deep)[0]).toEqual({ field: 'values', message: expect.stringMatching(/nested at most 16/) });
    });
    it('rejects values over 64 KiB of JSON', () => {
      expect(checkUserValuesShape({ big: 'x'.repeat(70_000) })[0].message).toMatch(/bytes/);
    });
  });

  describe(assertValuesValid.name, () => {
    const validator = new ValuesValidator();
    const box = new SecretBox(Buffer.alloc(32, 9));
    const sut = (values: Record<string, unknown>, t = template()) => () => assertValuesValid(validator, box, t, values, system);

    it('passes valid values', () => {
      expect(sut({ title: 'ok', adminPassword: 'long-enough' })).not.toThrow();
    });

    it('validates the merged document, so system values count too', () => {
      expect(() => assertValuesValid(validator, box, template(), {}, { deploymentUid: '', domainName: 'x.example' })).toThrow(DomainError);
    });

    it('throws InvalidValues naming the fields, never the values', () => {
      try {
        sut({ title: 'T'.repeat(30), adminPassword: 'short', extra: 'x' })();
        throw new Error('expected a throw');
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        const e = err as DomainError;
        expect(e.code).toBe('InvalidValues');
        expect(e.message).toBe('values do not match the schema of template 1.0.0');
        expect(e.fields.map((f) => f.field).sort()).toEqual(['/user/adminPassword', '/user/extra', '/user/title']);
        expect(JSON.stringify(e)).not.toMatch(/TTTT|short/);
      }
    });

    it('opens sealed secrets before validating them', () => {
      expect(sut({ adminPassword: box.seal('long-enough') })).not.toThrow();
      expect(sut({ adminPassword: box.seal('short') })).toThrow(DomainError);
    });

    it('checks the shape before the schema', () => {
      expect(sut([] as never)).toThrow(expect.objectContaining({ code: 'InvalidValues', fields: [{ field: 'values', message: 'must be a JSON object' }] }));
    });

    it('accepts anything when the template has no schema', () => {
      expect(sut({ whatever: { you: 'like' } }, template({ valuesSchema: null }))).not.toThrow();
    });
  });
});
