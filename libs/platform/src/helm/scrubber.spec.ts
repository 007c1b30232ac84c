import { base64Forms, encodedForms, goQuote, isOrdinary, jsonQuote, makeScrubber, yamlDoubleQuote } from './scrubber';

/** Quotes, a backslash, non-ASCII (BMP and astral), tab, newline, HTML characters, control characters, a no-break space. */
const MIXED = 'Le"ak\\é\t\n<&>\x01 ✓😀\u00a0end\x1b';

/**
 * How real encoders print MIXED, copied from their output (Go 1.2x fmt and encoding/json,
 * go.yaml.in/yaml/v2 as helm uses it through sigs.k8s.io/yaml, Python's json.dumps and bytes repr),
 * so the table checks the scrubber against the encoders, not against itself.
 */
const MIXED_FORMS: [string, string][] = [
  ['as is', MIXED],
  ['Go %q (Kubernetes field errors: Invalid value: %q)', String.raw`Le\"ak\\é\t\n<&>\x01 ✓😀\u00a0end\x1b`],
  ['Go %+q (ASCII only)', String.raw`Le\"ak\\\u00e9\t\n<&>\x01 \u2713\U0001f600\u00a0end\x1b`],
  ['Go encoding/json', String.raw`Le\"ak\\é\t\n\u003c\u0026\u003e\u0001 ✓😀` + '\u00a0' + String.raw`end\u001b`],
  ['YAML double-quoted (go-yaml)', String.raw`Le\"ak\\é\t\n<&>\x01 ✓\U0001F600` + '\u00a0' + String.raw`end\e`],
  ['JSON, ASCII only (Python json.dumps)', String.raw`Le\"ak\\\u00e9\t\n<&>\u0001 \u2713\ud83d\ude00\u00a0end\u001b`],
  ['non-ASCII as UTF-8 bytes in \\x escapes', String.raw`Le\"ak\\\xc3\xa9\t\n<&>\x01 \xe2\x9c\x93\xf0\x9f\x98\x80\xc2\xa0end\x1b`],
  ['JSON of a Go-quoted message (quoted twice)', JSON.stringify(String.raw`Le\"ak\\é\t\n<&>\x01 ✓😀\u00a0end\x1b`).slice(1, -1)],
  ['base64', Buffer.from(MIXED).toString('base64')],
  ['base64, URL-safe, unpadded (Go RawURLEncoding)', Buffer.from(MIXED).toString('base64url')],
];

const PLAIN = 'p@ss/word+=?~Secret';
const PLAIN_FORMS: [string, string][] = [
  ['as is', PLAIN],
  ['percent-encoded', 'p%40ss%2Fword%2B%3D%3F~Secret'],
  ['base64 padded', Buffer.from(PLAIN).toString('base64')],
  ['base64 unpadded', Buffer.from(PLAIN).toString('base64').replace(/=+$/, '')],
  ['base64 URL-safe', Buffer.from(PLAIN).toString('base64url')],
  ['YAML single-quoted', "O''Brien-Secret-1"],
];

describe(makeScrubber.name, () => {
  describe.each([
    [MIXED, MIXED_FORMS],
    [PLAIN, PLAIN_FORMS.filter(([name]) => name !== 'YAML single-quoted')],
    ["O'Brien-Secret-1", PLAIN_FORMS.filter(([name]) => name === 'YAML single-quoted')],
  ])('a value %j', (secret, forms) => {
    const sut = makeScrubber({ user: { password: secret } });

    it.each(forms)('is removed when printed %s', (_name, form) => {
      expect(form.length).toBeGreaterThan(0);
      expect(sut(`Error: Secret "web" is invalid: data: Invalid value: "${form}": not allowed`)).toBe('Error: Secret "web" is invalid: data: Invalid value: "[redacted]": not allowed');
    });
  });

  it.each([0, 1, 2, 5])('removes a value inside a longer base64 string (a Secret holding a DSN), %i bytes in', (offset) => {
    const secret = 'hunter2-Secret-pw';
    const dsn = `${'x'.repeat(offset)}postgres://app:${secret}@db:5432/app`;
    const sut = makeScrubber({ user: { password: secret } });
    for (const encoded of [Buffer.from(dsn).toString('base64'), Buffer.from(dsn).toString('base64url')]) {
      const out = sut(`data.dsn: ${encoded}`);
      expect(out).toContain('[redacted]');
      // What is left decodes to the DSN's frame at most: never the value, nor a long enough part of it to guess.
      const left = out.replace('data.dsn: ', '').split('[redacted]');
      for (const part of left) expect(Buffer.from(part, 'base64').toString('latin1')).not.toMatch(/hunter|Secret|2-S/);
    }
  });

  it('removes every line of a multi-line value (a YAML block scalar prints them one by one)', () => {
    const pem = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----';
    const sut = makeScrubber({ tls: { key: pem } });
    const out = sut(`key: |\n  ${pem.split('\n').join('\n  ')}\n`);
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(out).not.toContain('BKcwggSjAgEAAoIBAQC7');
  });

  it.each([
    ['booleans and null spelled as strings', ['true', 'False', 'yes', 'off', 'null']],
    ['short strings', ['web', 'v2', 'app', 'ab']],
    ['numbers of up to five digits', ['8080', '2026', '443', '-1', '0.5', '65535']],
    ['quantities and durations', ['500m', '1Gi', '64Mi', '30s', '1h30m', '2.5G']],
  ])('keeps %s readable', (_what, ordinary) => {
    const sut = makeScrubber({ user: Object.fromEntries(ordinary.map((v, i) => [`k${i}`, v])) });
    const text = `Deployment "web" is invalid: spec.replicas: ${ordinary.map((v) => JSON.stringify(v)).join(', ')} (in 8080 and true)`;
    expect(sut(text)).toBe(text);
    for (const v of ordinary) expect(isOrdinary(v)).toBe(true);
  });

  it('still removes longer digit strings and words of four or more characters (an unmarked value may be sensitive)', () => {
    const sut = makeScrubber({ user: { account: '4111111111111111', pin: '123456', word: 'nginx' } });
    expect(sut('card 4111111111111111 pin 123456 image nginx')).toBe('card [redacted] pin [redacted] image [redacted]');
  });

  it('keeps release and namespace names readable', () => {
    const sut = makeScrubber({ caelus: { deploymentUid: 'd-1234' }, pw: 'hunter2' }, undefined, ['d-1234']);
    expect(sut('Deployment is not ready: d-1234/d-1234 hunter2')).toBe('Deployment is not ready: d-1234/d-1234 [redacted]');
  });

  it('removes string values of 4+ characters and the values file path, longest first', () => {
    const sut = makeScrubber({ a: 'secret', b: ['secret-longer'], c: { d: 'abc', e: 42 } }, '/tmp/x/values.json');
    expect(sut('read /tmp/x/values.json: secret-longer and secret and abc 42')).toBe('read <values file>: [redacted] and [redacted] and abc 42');
  });

  it('is the identity without values', () => {
    expect(makeScrubber(undefined)('nothing to hide: 42 true')).toBe('nothing to hide: 42 true');
  });
});

describe('encoders', () => {
  it.each([
    [goQuote(MIXED), MIXED_FORMS[1][1]],
    [goQuote(MIXED, 'ascii'), MIXED_FORMS[2][1]],
    [jsonQuote(MIXED, 'go'), MIXED_FORMS[3][1]],
    [yamlDoubleQuote(MIXED), MIXED_FORMS[4][1]],
    [jsonQuote(MIXED, 'ascii'), MIXED_FORMS[5][1]],
  ])('%s matches the real encoder', (ours, theirs) => {
    expect(ours).toBe(theirs);
  });

  it('lists each form once, never shorter than the threshold', () => {
    const forms = encodedForms('abcd');
    expect(new Set(forms).size).toBe(forms.length);
    expect(forms.every((f) => f.length >= 4)).toBe(true);
    expect(forms).toEqual(expect.arrayContaining(['abcd', 'YWJjZA==', 'YWJjZA']));
  });

  it('gives base64 fragments only where they are long enough to mean something', () => {
    expect(base64Forms('abcd')).toEqual(['YWJjZA==', 'YWJjZA==', 'YWJjZA', 'YWJjZA']);
    expect(base64Forms('a-longer-secret').length).toBeGreaterThan(4);
  });
});
