import { exceedsJsonDepth, hasProtoKey, JsonForbiddenKeyError, JsonTooDeepError, rejectDeepJson, verifyJsonBody } from './json-depth';

const nested = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

describe(exceedsJsonDepth.name, () => {
  it('counts objects and arrays', () => {
    expect(exceedsJsonDepth('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(exceedsJsonDepth('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    expect(exceedsJsonDepth(nested(10), 10)).toBe(false);
    expect(exceedsJsonDepth(nested(11), 10)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(`{"a":"${'['.repeat(500)}"}`, 1)).toBe(false);
    expect(exceedsJsonDepth(`{"a":"\\"${'{'.repeat(500)}\\\\"}`, 1)).toBe(false);
    expect(exceedsJsonDepth(`{"a":"x\\\\", "b": ${nested(5)}}`, 5)).toBe(true);
  });

  it('reads buffers', () => {
    expect(exceedsJsonDepth(Buffer.from(nested(200, '{"a":', '}')), 128)).toBe(true);
  });
});

describe(rejectDeepJson.name, () => {
  const sut = rejectDeepJson(3);

  it('throws a 400 body-parser style error past the limit', () => {
    expect(() => sut(null, null, Buffer.from(nested(3)))).not.toThrow();
    const err = (() => {
      try {
        sut(null, null, Buffer.from(nested(4)));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(JsonTooDeepError);
    expect(err).toMatchObject({ type: 'entity.too.deep', status: 400, message: 'the request body is nested more than 3 levels deep' });
  });
});

describe(hasProtoKey.name, () => {
  it('finds a __proto__ key at any depth, also written with escapes', () => {
    expect(hasProtoKey('{"values":{"__proto__":{"isAdmin":true}}}')).toBe(true);
    expect(hasProtoKey('{"a":[{"b":{"\\u005f_proto__":1}}]}')).toBe(true);
    expect(hasProtoKey(Buffer.from('{"__proto__":1}'))).toBe(true);
  });

  it('leaves strings that merely mention it, and other keys, alone', () => {
    expect(hasProtoKey('{"title":"__proto__"}')).toBe(false);
    expect(hasProtoKey('{"constructor":{"prototype":1},"title":"\\u00e9"}')).toBe(false);
    expect(hasProtoKey('{"__proto__": ')).toBe(false);
  });
});

describe(verifyJsonBody.name, () => {
  it('refuses a __proto__ key with a 400 body-parser style error', () => {
    const err = (() => {
      try {
        verifyJsonBody()(null, null, Buffer.from('{"values":{"__proto__":{}}}'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(JsonForbiddenKeyError);
    expect(err).toMatchObject({ type: 'entity.forbidden.key', status: 400, message: 'the request body may not contain the key "__proto__"' });
  });

  it('still applies the depth limit', () => {
    expect(() => verifyJsonBody(3)(null, null, Buffer.from(nested(4)))).toThrow(JsonTooDeepError);
  });
});
