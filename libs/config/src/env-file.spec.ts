import { parseEnvFile } from './env-file';

describe(parseEnvFile.name, () => {
  it('reads the lines the local stack writes: comments, blanks, export prefixes and quotes', () => {
    const text = [
      '# Written by `npm run stack:up`',
      '',
      'DATABASE_URL=postgres://caelus:pw@127.0.0.1:5432/caelus',
      'export HELM_BIN=/opt/tools/helm',
      'A="quoted value"',
      "B='single'",
      '  C = spaced  ',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      DATABASE_URL: 'postgres://caelus:pw@127.0.0.1:5432/caelus',
      HELM_BIN: '/opt/tools/helm',
      A: 'quoted value',
      B: 'single',
      C: 'spaced',
    });
  });

  it('skips lines without a key', () => {
    expect(parseEnvFile('=no-key\njust text\nK=v\n')).toEqual({ K: 'v' });
  });
});
