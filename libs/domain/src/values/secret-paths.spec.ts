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

  it('refuses to open a value sealed with another key', () => {
    const sealed = new SecretBox(Buffer.alloc(32, 1)).seal('x');
    expect(() => box.open(sealed)).toThrow(/another key/);
  });
});
