import { TemplateVersionEntity } from '../../../persistence/src';
import { DomainError } from '../errors';
import { deploymentOwner, ENCRYPTED_KEY, REDACTED, SecretBox, sealSecrets, templateOwner, ValuesValidator } from '../values';
import { assertNoClientEnvelopes, assertValuesValid, checkUserValuesShape, MAX_VALUES_DEPTH, mergeValues, openValues, secretValuePaths } from './deployment-values';

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
const owner = { id: 'dep-1', ...system };

describe('deployment values', () => {
  describe(mergeValues.name, () => {
    it('layers defaults, then the user values under "user", then the system overrides', () => {
      const sut = mergeValues(template().defaultValues, { title: 'mine' }, system);
      expect(sut).toEqual({ replicas: 1, user: { title: 'mine', theme: 'light' }, caelus: system });
    });

    it('does not let user values reach outside "user" or override the system values', () => {
      const sut = mergeValues(template().defaultValues, { replicas: 50, caelus: { deploymentUid: 'other' } }, system);
      expect(sut.replicas).toBe(1);
      expect(sut.caelus).toEqual(system);
      expect((sut.user as Record<string, unknown>).replicas).toBe(50);
    });

    it('takes only the uid and domain from a whole deployment row', () => {
      const sut = mergeValues(template().defaultValues, {}, { ...system, userValues: { x: 1 }, id: 'd' } as never);
      expect(sut.caelus).toEqual(system);
    });

    it('copes with a template without defaults', () => {
      expect(mergeValues({}, { a: 1 }, system)).toEqual({ user: { a: 1 }, caelus: system });
    });
  });

  describe(secretValuePaths.name, () => {
    const box = new SecretBox(Buffer.alloc(32, 9));

    it('finds what the schema marks secret and every sealed leaf, also one the schema no longer marks', () => {
      const t = template({ defaultValues: { db: { dsn: box.seal('postgres://u:p@db/x', { ...templateOwner('tpl-1'), path: '/db/dsn' }) } } });
      const user = { adminPassword: 'hunter2hunter2', tokens: [box.seal('tok-1', { ...deploymentOwner('dep-1'), path: '/tokens/0' })] };
      const sut = secretValuePaths(t, user, openValues(box, t, user, owner));
      expect(sut).toEqual(
        expect.arrayContaining([
          ['user', 'adminPassword'],
          ['db', 'dsn'],
          ['user', 'tokens', '0'],
        ]),
      );
      expect(sut).toHaveLength(3);
    });

    it('is empty when nothing is secret', () => {
      expect(secretValuePaths(template(), { title: 'x' }, mergeValues(template().defaultValues, { title: 'x' }, system))).toEqual([]);
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
    const sut =
      (values: Record<string, unknown>, t = template()) =>
      () =>
        assertValuesValid(validator, box, t, values, owner);

    it('passes valid values', () => {
      expect(sut({ title: 'ok', adminPassword: 'long-enough' })).not.toThrow();
    });

    it('validates the merged document, so system values count too', () => {
      expect(() => assertValuesValid(validator, box, template(), {}, { id: 'dep-1', deploymentUid: '', domainName: 'x.example' })).toThrow(DomainError);
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
      const at = { ...deploymentOwner('dep-1'), path: '/adminPassword' };
      expect(sut({ adminPassword: box.seal('long-enough', at) })).not.toThrow();
      expect(sut({ adminPassword: box.seal('short', at) })).toThrow(DomainError);
    });

    it('refuses an envelope sealed for another deployment or field, naming the field (never a 500)', () => {
      for (const other of [
        { ...deploymentOwner('dep-2'), path: '/adminPassword' },
        { ...deploymentOwner('dep-1'), path: '/title' },
      ]) {
        expect(sut({ adminPassword: box.seal('long-enough', other) })).toThrow(
          expect.objectContaining({ code: 'InvalidValues', fields: [{ field: '/adminPassword', message: expect.stringMatching(/does not open here/) }] }),
        );
      }
    });

    it('refuses an envelope of an unknown key, or an unbound one, as a conflict that may heal', () => {
      const stranger = new SecretBox(Buffer.alloc(32, 1));
      expect(sut({ adminPassword: stranger.seal('long-enough', { ...deploymentOwner('dep-1'), path: '/adminPassword' }) })).toThrow(expect.objectContaining({ code: 'Conflict' }));
      expect(sut({ adminPassword: box.sealUnbound('long-enough') })).toThrow(
        expect.objectContaining({ code: 'Conflict', fields: [{ field: '/adminPassword', message: expect.stringMatching(/rotate-encryption-key/) }] }),
      );
    });

    it("validates with the template's sealed defaults opened", () => {
      const t = template();
      t.defaultValues = sealSecrets({ ...t.defaultValues, user: { title: 'default', adminPassword: 'default-pw' } }, [['user', 'adminPassword']], box, templateOwner(t.id));
      expect(sut({}, t)).not.toThrow();
      t.defaultValues = sealSecrets({ ...t.defaultValues, user: { title: 'default', adminPassword: 'short' } }, [['user', 'adminPassword']], box, templateOwner(t.id));
      expect(sut({}, t)).toThrow(DomainError);
    });

    it('checks the shape before the schema', () => {
      expect(sut([] as never)).toThrow(expect.objectContaining({ code: 'InvalidValues', fields: [{ field: 'values', message: 'must be a JSON object' }] }));
    });

    it('accepts anything when the template has no schema', () => {
      expect(sut({ whatever: { you: 'like' } }, template({ valuesSchema: null }))).not.toThrow();
    });
  });

  describe(openValues.name, () => {
    it("opens the template's and the deployment's secrets, each with its own binding", () => {
      const box = new SecretBox(Buffer.alloc(32, 9));
      const t = template({
        defaultValues: sealSecrets(
          { user: { adminPassword: 'from-defaults' }, smtp: { password: 'smtp-pw' } },
          [
            ['user', 'adminPassword'],
            ['smtp', 'password'],
          ],
          box,
          templateOwner('tpl-1'),
        ),
      });
      expect(openValues(box, t, {}, owner)).toEqual({ user: { adminPassword: 'from-defaults' }, smtp: { password: 'smtp-pw' }, caelus: system });
      const user = sealSecrets({ adminPassword: 'mine' }, [['adminPassword']], box, deploymentOwner('dep-1'));
      expect(openValues(box, t, user, owner)).toEqual({ user: { adminPassword: 'mine' }, smtp: { password: 'smtp-pw' }, caelus: system });
      // The template's envelope copied into the deployment's values does not open there.
      expect(() => openValues(box, t, { adminPassword: (t.defaultValues.user as Record<string, unknown>).adminPassword }, owner)).toThrow(
        expect.objectContaining({ code: 'InvalidValues', fields: [{ field: '/adminPassword', message: expect.stringMatching(/does not open here/) }] }),
      );
    });
  });

  describe(assertNoClientEnvelopes.name, () => {
    it.each([
      [{ [ENCRYPTED_KEY]: 'v2.x' }, ['/user/$caelusEncrypted']],
      [{ adminPassword: { [ENCRYPTED_KEY]: 'v2.abc' } }, ['/user/adminPassword/$caelusEncrypted']],
      [{ list: [1, { deep: { [ENCRYPTED_KEY]: 5 } }] }, ['/user/list/1/deep/$caelusEncrypted']],
      [{ 'a/b': { [ENCRYPTED_KEY]: null } }, ['/user/a~1b/$caelusEncrypted']],
    ])('refuses %j, naming the field', (values, fields) => {
      expect(() => assertNoClientEnvelopes(values)).toThrow(expect.objectContaining({ code: 'InvalidValues', fields: fields.map((field) => ({ field, message: expect.stringMatching(/reserved/) })) }));
    });

    it('accepts plain values, the redaction marker and look-alike keys', () => {
      expect(() => assertNoClientEnvelopes({ adminPassword: REDACTED, note: '$caelusEncrypted', other: { caelusEncrypted: 'x', $caelusencrypted: 'y' } })).not.toThrow();
    });
  });
});
