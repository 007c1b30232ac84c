import { reservedKeyProblems } from './reserved-keys';
import { ENCRYPTED_KEY, REDACTED, SecretBox } from './secret-box';
import {
  deploymentOwner,
  keepRedacted,
  openAllSealed,
  redactAllSealed,
  redactSecrets,
  sealedStrings,
  sealSecrets,
  secretLocations,
  templateOwner,
  toPointer,
  userSecretLocations,
} from './secret-paths';

const S = { type: 'string', 'x-caelus-secret': true };
const userSchema = (user: object, extra: object = {}) => ({ type: 'object', properties: { user: { type: 'object', ...user } }, ...extra });

describe('secret paths', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const owner = deploymentOwner('dep-1');

  /** Every place a schema can put a field, with user values that reach it and the locations that must be sealed. */
  it.each<[string, object, Record<string, unknown>, string[]]>([
    ['properties', { properties: { title: { type: 'string' }, adminPassword: S } }, { title: 'hi', adminPassword: 'pw' }, ['/adminPassword']],
    ['nested properties', { properties: { smtp: { properties: { password: S, host: { type: 'string' } } } } }, { smtp: { password: 'p', host: 'h' } }, ['/smtp/password']],
    ['additionalProperties', { properties: { title: { type: 'string' } }, additionalProperties: S }, { title: 'kept', apiKey: 'k', token: 't' }, ['/apiKey', '/token']],
    [
      'additionalProperties of a map of objects',
      { properties: { creds: { additionalProperties: { properties: { password: S } } } } },
      { creds: { db: { password: 'a', user: 'u' }, cache: { password: 'b' } } },
      ['/creds/db/password', '/creds/cache/password'],
    ],
    ['patternProperties', { patternProperties: { '^secret_': S, '^plain_': { type: 'string' } } }, { secret_a: 'x', plain_b: 'y', other: 'z' }, ['/secret_a']],
    ['patternProperties before additionalProperties', { patternProperties: { '^x-': { type: 'string' } }, additionalProperties: S }, { 'x-plain': 'a', hidden: 'b' }, ['/hidden']],
    ['items', { properties: { tokens: { type: 'array', items: S } } }, { tokens: ['a', 'b'] }, ['/tokens/0', '/tokens/1']],
    [
      'items of objects',
      { properties: { users: { items: { properties: { password: S, name: { type: 'string' } } } } } },
      { users: [{ name: 'a', password: 'p' }, { name: 'b' }] },
      ['/users/0/password'],
    ],
    [
      'prefixItems, then items',
      { properties: { pair: { prefixItems: [{ type: 'string' }, S], items: { properties: { key: S } } } } },
      { pair: ['user', 'pw', { key: 'k' }] },
      ['/pair/1', '/pair/2/key'],
    ],
    ['draft-07 tuple items with additionalItems', { properties: { pair: { items: [{ type: 'string' }, S], additionalItems: S } } }, { pair: ['user', 'pw', 'more'] }, ['/pair/1', '/pair/2']],
    ['allOf', { allOf: [{ properties: { a: S } }, { properties: { b: S } }] }, { a: '1', b: '2', c: '3' }, ['/a', '/b']],
    ['anyOf (every branch)', { anyOf: [{ properties: { a: S } }, { properties: { b: { type: 'string' } } }] }, { a: '1', b: '2' }, ['/a']],
    ['oneOf', { oneOf: [{ properties: { kind: { const: 'db' }, dsn: S } }, { properties: { kind: { const: 'none' } } }] }, { kind: 'db', dsn: 'postgres://x' }, ['/dsn']],
    [
      'if/then/else (both branches)',
      { if: { properties: { mode: { const: 'ldap' } } }, then: { properties: { bindPassword: S } }, else: { properties: { localPassword: S } } },
      { mode: 'x', bindPassword: 'b', localPassword: 'l' },
      ['/bindPassword', '/localPassword'],
    ],
    ['dependentSchemas', { dependentSchemas: { smtp: { properties: { smtpPassword: S } } } }, { smtp: 'on', smtpPassword: 'p' }, ['/smtpPassword']],
    ['a $ref to #/definitions', { properties: { adminPassword: { $ref: '#/definitions/password' } } }, { adminPassword: 'pw' }, ['/adminPassword']],
    ['a $ref to #/$defs inside additionalProperties', { additionalProperties: { $ref: '#/$defs/cred' } }, { db: { password: 'p', user: 'u' } }, ['/db/password']],
    [
      'a recursive $ref',
      { properties: { tree: { $ref: '#/definitions/node' } } },
      { tree: { secret: 'a', children: [{ secret: 'b', children: [{ secret: 'c' }] }] } },
      ['/tree/secret', '/tree/children/0/secret', '/tree/children/0/children/0/secret'],
    ],
    ['user marked secret as a whole', { 'x-caelus-secret': true }, { a: '1', b: { c: 2 } }, ['/a', '/b']],
    ['a secret object (sealed whole)', { properties: { creds: { type: 'object', 'x-caelus-secret': true } } }, { creds: { user: 'u', password: 'p' } }, ['/creds']],
  ])('finds secrets under %s', (_construct, user, values, expected) => {
    const schema = userSchema(user, {
      definitions: { password: S, node: { properties: { secret: S, children: { items: { $ref: '#/definitions/node' } } } } },
      $defs: { cred: { properties: { password: { $ref: '#/definitions/password' } } } },
    });
    const locations = userSecretLocations(schema, values);
    expect(locations.map(toPointer).sort()).toEqual([...expected].sort());

    const sealed = sealSecrets(values, locations, box, owner);
    for (const p of expected) {
      const leaf = p
        .split('/')
        .slice(1)
        .reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], sealed);
      expect(SecretBox.isSealed(leaf)).toBe(true);
    }
    expect(openAllSealed(sealed, box, owner)).toEqual(values);
    expect(JSON.stringify(redactAllSealed(sealed))).toContain(REDACTED);
    // Sealing is idempotent: the locations of a sealed document are the same, and nothing is sealed twice.
    expect(sealSecrets(sealed, userSecretLocations(schema, sealed), box, owner)).toEqual(sealed);
  });

  it('finds nothing without a schema, for absent fields, or through remote and missing refs', () => {
    expect(secretLocations(null, { a: 1 })).toEqual([]);
    expect(userSecretLocations(userSchema({ properties: { pw: S } }), {})).toEqual([]);
    const refs = userSchema({ properties: { a: { $ref: 'https://example.com/s.json' }, b: { $ref: '#/definitions/nope' } } });
    expect(userSecretLocations(refs, { a: 'x', b: 'y' })).toEqual([]);
  });

  it('stops at $ref cycles that do not descend', () => {
    const looping = { definitions: { a: { $ref: '#/definitions/b' }, b: { $ref: '#/definitions/a' } }, properties: { user: { properties: { x: { $ref: '#/definitions/a' } } } } };
    expect(userSecretLocations(looping, { x: 'v' })).toEqual([]);
  });

  it('finds template default secrets at the top level of the merged document', () => {
    const schema = { properties: { smtp: { properties: { password: S } }, user: { properties: { adminPassword: S } } } };
    expect(secretLocations(schema, { smtp: { password: 'a' }, user: { adminPassword: 'b', title: 't' }, replicas: 1 }).map(toPointer)).toEqual(['/smtp/password', '/user/adminPassword']);
  });

  it('escapes keys in the pointers it binds to', () => {
    expect(toPointer(['a/b', 'c~d', '0'])).toBe('/a~1b/c~0d/0');
    const sealed = sealSecrets({ 'a/b': 'x' }, [['a/b']], box, owner);
    expect(box.open(sealed['a/b'] as never, { ...owner, path: '/a~1b' })).toBe('x');
  });

  it('keeps a stored secret when the client sends the redaction marker back', () => {
    const stored = sealSecrets({ adminPassword: 'old', tokens: ['t0', 't1'] }, [['adminPassword'], ['tokens', '0'], ['tokens', '1']], box, owner);
    const incoming = { adminPassword: REDACTED, title: 'x', tokens: [REDACTED, 'new'] };
    const sut = keepRedacted(incoming, stored, userSecretLocations(userSchema({ properties: { adminPassword: S, tokens: { items: S } } }), incoming));
    expect(openAllSealed(sut, box, owner)).toEqual({ adminPassword: 'old', title: 'x', tokens: ['t0', 'new'] });
  });

  it('seals an object a newer schema marks secret as a whole with the secrets inside it opened', () => {
    const before = sealSecrets({ creds: { user: 'u', password: 'p' } }, [['creds', 'password']], box, owner);
    const after = sealSecrets(before, userSecretLocations(userSchema({ properties: { creds: S } }), before), box, owner);
    expect(SecretBox.isSealed(after.creds)).toBe(true);
    expect(openAllSealed(after, box, owner)).toEqual({ creds: { user: 'u', password: 'p' } });
  });

  it('redacts secret locations whether sealed or not', () => {
    expect(redactSecrets({ a: 'plain', b: { c: 'x' } }, [['b', 'c'], ['missing']])).toEqual({ a: 'plain', b: { c: REDACTED } });
  });

  it('lists the plain strings of sealed leaves, with their binding', () => {
    const doc = sealSecrets({ a: 'one', b: { nested: ['two', 3] } }, [['a'], ['b']], box, templateOwner('tpl-1'));
    expect(sealedStrings(doc, box, templateOwner('tpl-1')).sort()).toEqual(['one', 'two']);
    expect(() => sealedStrings(doc, box, templateOwner('tpl-2'))).toThrow(expect.objectContaining({ code: 'InvalidValues' }));
  });

  it('keeps "__proto__" keys as data when opening and redacting', () => {
    const doc = JSON.parse('{"__proto__": {"polluted": true}, "pw": "x"}');
    const sealed = sealSecrets(doc, [['pw']], box, owner);
    const opened = openAllSealed(sealed, box, owner) as Record<string, unknown>;
    expect(Object.hasOwn(opened, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(redactAllSealed(sealed))).toBe(Object.prototype);
  });
});

describe(reservedKeyProblems.name, () => {
  it('names every occurrence of the envelope key, in objects and arrays', () => {
    expect(reservedKeyProblems({ a: { [ENCRYPTED_KEY]: 'x' }, list: [{ [ENCRYPTED_KEY]: 1 }], [ENCRYPTED_KEY]: null }, 'defaultValues').map((p) => p.field)).toEqual([
      'defaultValues/a/$caelusEncrypted',
      'defaultValues/list/0/$caelusEncrypted',
      'defaultValues/$caelusEncrypted',
    ]);
  });

  it('finds it in a schema too (as a property name or inside a default)', () => {
    const schema = { properties: { pw: { type: 'object', default: { [ENCRYPTED_KEY]: 'v2.x' } }, [ENCRYPTED_KEY]: { type: 'string' } } };
    expect(reservedKeyProblems(schema, 'valuesSchema').map((p) => p.field)).toEqual(['valuesSchema/properties/pw/default/$caelusEncrypted', 'valuesSchema/properties/$caelusEncrypted']);
  });

  it('is empty for anything else', () => {
    expect([undefined, null, 'x', { a: '$caelusEncrypted' }, [1, { b: 2 }]].flatMap((d) => reservedKeyProblems(d, 'f'))).toEqual([]);
  });
});
