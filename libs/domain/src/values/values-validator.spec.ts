import { ValuesValidator } from './values-validator';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    replicas: { type: 'integer', minimum: 0, maximum: 5 },
    user: {
      type: 'object',
      additionalProperties: false,
      required: ['title'],
      properties: {
        title: { type: 'string', maxLength: 10 },
        theme: { enum: ['light', 'dark'] },
        email: { type: 'string', format: 'email' },
        adminPassword: { type: 'string', minLength: 8, pattern: '^[^ ]+$', 'x-caelus-secret': true },
        smtp: { type: 'object', properties: { port: { type: 'integer' } } },
      },
    },
  },
};

describe(ValuesValidator.name, () => {
  let sut: ValuesValidator;

  beforeEach(() => {
    sut = new ValuesValidator();
  });

  describe('checkSchema', () => {
    it('accepts a schema using the x-caelus-secret keyword (strict about its type)', () => {
      expect(sut.checkSchema(schema)).toEqual([]);
      expect(sut.checkSchema({ type: 'string', 'x-caelus-secret': 'yes' })).toEqual([{ field: 'valuesSchema', message: expect.stringMatching(/not a valid JSON Schema/) }]);
    });

    it.each([[null], [[]], ['{}'], [42]])('rejects %j as a schema', (s) => {
      expect(sut.checkSchema(s)).toEqual([{ field: 'valuesSchema', message: 'must be a JSON Schema object' }]);
    });

    it('rejects a schema ajv cannot compile', () => {
      expect(sut.checkSchema({ type: 'no-such-type' })[0]).toEqual({ field: 'valuesSchema', message: expect.stringMatching(/^is not a valid JSON Schema: /) });
      expect(sut.checkSchema({ $ref: '#/definitions/missing' })[0].field).toBe('valuesSchema');
    });

    it('accepts the same schema twice, also when it has an $id (two versions of one product share it)', () => {
      const withId = () => ({ $id: 'https://charts.example.com/webapp/values.schema.json', type: 'object' });
      expect(sut.checkSchema(withId())).toEqual([]);
      expect(sut.checkSchema(withId())).toEqual([]);
      expect(sut.validate('t1', withId(), {})).toEqual([]);
      expect(sut.validate('t2', withId(), 'x')).toEqual([{ field: '/', message: 'must be object' }]);
    });
  });

  describe('validate', () => {
    it('returns no problems without a schema', () => {
      expect(sut.validate('t', null, { anything: true })).toEqual([]);
    });

    it('accepts valid values', () => {
      expect(sut.validate('t', schema, { replicas: 2, user: { title: 'hi', adminPassword: 'long-enough' } })).toEqual([]);
    });

    it('names every failing field as a JSON pointer (allErrors)', () => {
      const problems = sut.validate('t', schema, { replicas: 9, user: { title: 'x'.repeat(20), theme: 'pink', smtp: { port: 'x' } } });
      expect(problems).toEqual(
        expect.arrayContaining([
          { field: '/replicas', message: 'must be <= 5' },
          { field: '/user/title', message: 'must NOT have more than 10 characters' },
          { field: '/user/theme', message: 'must be equal to one of the allowed values' },
          { field: '/user/smtp/port', message: 'must be integer' },
        ]),
      );
      expect(problems).toHaveLength(4);
    });

    it('names the missing property for required and the extra one for additionalProperties', () => {
      expect(sut.validate('t', schema, { user: { title: 'a', sneaky: 1 }, extra: true })).toEqual(
        expect.arrayContaining([
          { field: '/user/sneaky', message: 'is not an allowed property' },
          { field: '/extra', message: 'is not an allowed property' },
        ]),
      );
      expect(sut.validate('t', schema, {})).toEqual([{ field: '/user', message: "must have required property 'user'" }]);
      expect(sut.validate('t', schema, { user: {} })).toEqual([{ field: '/user/title', message: "must have required property 'title'" }]);
    });

    it('validates formats (ajv-formats)', () => {
      expect(sut.validate('t', schema, { user: { title: 'a', email: 'not-an-email' } })).toEqual([{ field: '/user/email', message: 'must match format "email"' }]);
    });

    it('reports a whole-document type error at "/"', () => {
      expect(sut.validate('t', schema, 'nope')).toEqual([{ field: '/', message: 'must be object' }]);
    });

    it('never echoes the offending value, secret or not', () => {
      const secret = 'hunter2 has spaces';
      const problems = sut.validate('t', schema, { user: { title: 'Sup3rS3cr3tTitleTooLong', adminPassword: secret, theme: 'Sup3rS3cr3tTheme' } });
      expect(problems.map((p) => p.field).sort()).toEqual(['/user/adminPassword', '/user/theme', '/user/title']);
      const text = JSON.stringify(problems);
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('Sup3rS3cr3t');
    });

    it('caches the compiled schema by key: a template id always means the same schema', () => {
      expect(sut.validate('same-id', { type: 'string' }, 1)).toHaveLength(1);
      expect(sut.validate('same-id', { type: 'number' }, 1)).toHaveLength(1);
      expect(sut.validate('other-id', { type: 'number' }, 1)).toEqual([]);
    });
  });

  describe('strict mode at publish', () => {
    it('refuses an unknown keyword, naming it, and an unknown format', () => {
      expect(sut.checkSchema({ type: 'object', properties: { title: { type: 'string', maxLenght: 3 } } })).toEqual([
        { field: 'valuesSchema', message: expect.stringMatching(/unknown keyword: "maxLenght"/) },
      ]);
      expect(sut.checkSchema({ type: 'string', format: 'no-such-format' })[0].message).toMatch(/no-such-format/);
      expect(sut.checkSchema({ type: 'object', 'x-ui-widget': 'slider' })[0].message).toMatch(/unknown keyword: "x-ui-widget"/);
    });

    it('still allows x-caelus-secret and ordinary schemas without type on properties', () => {
      expect(sut.checkSchema({ properties: { a: { 'x-caelus-secret': true, type: 'string' }, b: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } })).toEqual([]);
    });

    it('keeps validating stored schemas that strict mode would refuse (published before it)', () => {
      const old = { type: 'object', properties: { title: { type: 'string', maxLenght: 3 } } };
      expect(sut.validate('old-template', old, { title: 'long enough' })).toEqual([]);
    });
  });
});
