import { REDACTED, SecretBox } from './secret-box';
import { keepRedacted, openSecrets, redactSecrets, sealSecrets, secretPaths, userSecretPaths } from './secret-paths';

const schema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        adminPassword: { type: 'string', 'x-caelus-secret': true },
        smtp: { type: 'object', properties: { password: { type: 'string', 'x-caelus-secret': true } } },
        tokens: { type: 'array', items: { type: 'string', 'x-caelus-secret': true } },
      },
    },
  },
};

describe('secret paths', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));

  it('finds secret fields through properties and items', () => {
    expect(secretPaths(schema)).toEqual([['user', 'adminPassword'], ['user', 'smtp', 'password'], ['user', 'tokens', '*']]);
    expect(userSecretPaths(schema)).toEqual([['adminPassword'], ['smtp', 'password'], ['tokens', '*']]);
  });

  it('seals, opens and redacts only the secret leaves', () => {
    const values = { title: 'hi', adminPassword: 's3cret', smtp: { password: 'p' }, tokens: ['a', 'b'] };
    const sut = sealSecrets(values, userSecretPaths(schema), box);
    expect(JSON.stringify(sut)).not.toContain('s3cret');
    expect(sut.title).toBe('hi');
    expect(SecretBox.isSealed(sut.adminPassword)).toBe(true);
    expect(openSecrets(sut, userSecretPaths(schema), box)).toEqual(values);
    expect(redactSecrets(values, userSecretPaths(schema))).toEqual({ title: 'hi', adminPassword: REDACTED, smtp: { password: REDACTED }, tokens: [REDACTED, REDACTED] });
  });

  it('keeps a stored secret when the client sends the redaction marker back', () => {
    const stored = sealSecrets({ adminPassword: 'old' }, [['adminPassword']], box);
    const sut = keepRedacted({ adminPassword: REDACTED, title: 'x' }, stored, [['adminPassword']]);
    expect(box.open(sut.adminPassword as never)).toBe('old');
  });

  it('follows local $refs to secret fields, and survives recursive schemas', () => {
    const withRefs = {
      definitions: {
        password: { type: 'string', 'x-caelus-secret': true },
        smtp: { type: 'object', properties: { password: { $ref: '#/definitions/password' } } },
        node: { type: 'object', properties: { secret: { $ref: '#/$defs/key' }, children: { type: 'array', items: { $ref: '#/definitions/node' } } } },
      },
      $defs: { key: { type: 'string', 'x-caelus-secret': true } },
      type: 'object',
      properties: {
        user: {
          type: 'object',
          properties: { adminPassword: { $ref: '#/definitions/password' }, smtp: { $ref: '#/definitions/smtp' }, tree: { $ref: '#/definitions/node' }, missing: { $ref: '#/definitions/nope' }, remote: { $ref: 'https://example.com/s.json' } },
        },
      },
    };
    const sut = userSecretPaths(withRefs);
    expect(sut.slice(0, 4)).toEqual([['adminPassword'], ['smtp', 'password'], ['tree', 'secret'], ['tree', 'children', '*', 'secret']]);
    expect(sut).toContainEqual(['tree', 'children', '*', 'children', '*', 'children', '*', 'secret']);
    expect(Math.max(...sut.map((p) => p.length))).toBeLessThanOrEqual(17);
  });

  it('stops at $ref cycles that do not descend', () => {
    const looping = { definitions: { a: { $ref: '#/definitions/b' }, b: { $ref: '#/definitions/a' } }, properties: { user: { properties: { x: { $ref: '#/definitions/a' } } } } };
    expect(secretPaths(looping)).toEqual([]);
  });

  it('refuses to open a value sealed with another key', () => {
    const sealed = new SecretBox(Buffer.alloc(32, 1)).seal('x');
    expect(() => box.open(sealed)).toThrow(/another key/);
  });
});
