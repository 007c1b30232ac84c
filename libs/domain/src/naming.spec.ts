import { DNS_LABEL, isDnsLabel, isDomainName, makeDeploymentUid, MAX_DEPLOYMENT_UID, normalizeDomainSuffix, randomSuffix, underDomainSuffix } from './naming';

describe('naming', () => {
  describe(makeDeploymentUid.name, () => {
    it('joins product, the local part of the e-mail and the suffix', () => {
      const sut = makeDeploymentUid('nextcloud', 'ada@example.com', 'abc123');
      expect(sut).toBe('nextcloud-ada-abc123');
    });

    it('turns anything that is not a-z0-9 into single dashes', () => {
      expect(makeDeploymentUid('Web_App', 'Ada.Lovelace+t@example.com', 'x1y2z3')).toBe('web-app-ada-lovelace-t-x1y2z3');
    });

    it.each([
      ['a'.repeat(200), 'b'.repeat(200)],
      ['product-name-that-is-quite-long-indeed', 'first.middle.last.name.of.someone@example.com'],
      ['-----', '....@example.com'],
      ['', '@example.com'],
      ['ÄÖÜ', 'ñandú@example.com'],
      ['x-'.repeat(30), '-y'.repeat(40) + '@example.com'],
    ])('stays a DNS label of at most 53 characters for %j / %j', (product, email) => {
      const sut = makeDeploymentUid(product, email);
      expect(sut.length).toBeLessThanOrEqual(MAX_DEPLOYMENT_UID);
      expect(sut).toMatch(DNS_LABEL);
      expect(isDnsLabel(sut, 53)).toBe(true);
    });

    it('never ends a slug with a dash after truncation', () => {
      const sut = makeDeploymentUid('abcdefghijklmnopqrs-tuvwxyz', 'abcdefghijklmno-pqrstu@example.com', 'zzzzzz');
      expect(sut).not.toMatch(/--/);
      expect(sut).toBe('abcdefghijklmnopqrs-abcdefghijklmno-zzzzzz');
    });

    it('gives two calls different uids through the random suffix', () => {
      const uids = new Set(Array.from({ length: 200 }, () => makeDeploymentUid('app', 'ada@example.com')));
      expect(uids.size).toBe(200);
    });

    it('refuses a suffix that would break the DNS label', () => {
      expect(() => makeDeploymentUid('app', 'ada@example.com', 'UPPER')).toThrow(/not a DNS label/);
      expect(() => makeDeploymentUid('app', 'ada@example.com', 'x'.repeat(50))).toThrow(/not a DNS label/);
    });
  });

  describe(randomSuffix.name, () => {
    it('uses lower-case letters and digits only', () => {
      for (let i = 0; i < 50; i++) expect(randomSuffix()).toMatch(/^[a-z0-9]{6}$/);
      expect(randomSuffix(10)).toHaveLength(10);
    });
  });

  describe(isDnsLabel.name, () => {
    it.each(['a', 'a1', 'a-b', '0abc', 'x'.repeat(63)])('accepts %s', (s) => expect(isDnsLabel(s)).toBe(true));
    it.each(['', '-a', 'a-', 'A', 'a_b', 'a.b', 'a b', 'x'.repeat(64), 'ä'])('rejects %j', (s) => expect(isDnsLabel(s)).toBe(false));
    it('honours a smaller maximum', () => {
      expect(isDnsLabel('x'.repeat(40), 40)).toBe(true);
      expect(isDnsLabel('x'.repeat(41), 40)).toBe(false);
    });
  });

  describe(isDomainName.name, () => {
    it.each(['app.example.com', 'a.b', 'ada-1.apps.example.com', 'x1.io', `${'a'.repeat(63)}.example.com`, 'xn--bcher-kva.example'])('accepts %s', (s) => expect(isDomainName(s)).toBe(true));
    it.each([
      ['', 'empty'],
      ['localhost', 'single label'],
      ['App.example.com', 'upper case'],
      ['app..example.com', 'empty label'],
      ['.example.com', 'leading dot'],
      ['app.example.com.', 'trailing dot'],
      ['-app.example.com', 'label starting with a dash'],
      ['app-.example.com', 'label ending with a dash'],
      ['app_1.example.com', 'underscore'],
      ['10.0.0.1', 'IPv4 address (numeric top-level label)'],
      ['app.example.123', 'numeric top-level label'],
      [`${'a'.repeat(64)}.example.com`, 'label over 63'],
      [`${'abcdefghi.'.repeat(25)}com`.replace('a', 'aa'), 'over 253 characters'],
      ['app.example.com/x', 'path'],
      ['app.example.com:80', 'port'],
      ['app example.com', 'space'],
      ['ünï.example.com', 'not punycode'],
      ['a.example.com;rm -rf /', 'shell text'],
    ])('rejects %j (%s)', (s) => expect(isDomainName(s)).toBe(false));
  });

  describe(normalizeDomainSuffix.name, () => {
    it.each([
      ['apps.example.com', 'apps.example.com'],
      ['.Apps.Example.com', 'apps.example.com'],
      ['*.apps.example.com', 'apps.example.com'],
      ['test', 'test'],
      ['', null],
      ['a..b', null],
      ['*.*.x.com', null],
      ['a_b.com', null],
    ])('%j → %j', (raw, want) => {
      expect(normalizeDomainSuffix(raw)).toBe(want);
    });
  });

  describe(underDomainSuffix.name, () => {
    it('matches names strictly under a suffix, on a label boundary', () => {
      expect(underDomainSuffix('a.apps.example.com', ['apps.example.com'])).toBe(true);
      expect(underDomainSuffix('a.b.apps.example.com', ['x.org', 'apps.example.com'])).toBe(true);
      expect(underDomainSuffix('apps.example.com', ['apps.example.com'])).toBe(false);
      expect(underDomainSuffix('myapps.example.com', ['apps.example.com'])).toBe(false);
      expect(underDomainSuffix('a.apps.example.com.evil.io', ['apps.example.com'])).toBe(false);
    });
  });
});
