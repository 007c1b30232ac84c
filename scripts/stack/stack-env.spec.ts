import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatStackEnv, loadStackEnv } from './index';

describe(formatStackEnv.name, () => {
  const env = {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/caelus',
    KUBECONFIG: '/some dir/with space/kubeconfig.yaml',
    ODD: "it's $HOME `x`",
  };

  it('round-trips through loadStackEnv', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stack-env-')), 'stack.env');
    fs.writeFileSync(file, formatStackEnv(env));
    expect(loadStackEnv(file)).toEqual(env);
  });

  it('is loadable by a POSIX shell with set -a', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stack-env-')), 'stack.env');
    fs.writeFileSync(file, formatStackEnv(env));
    const out = execFileSync('sh', ['-c', 'set -a; . "$1"; printf "%s\\n%s" "$KUBECONFIG" "$ODD"', 'sh', file], { encoding: 'utf8' });
    expect(out).toBe(`${env.KUBECONFIG}\n${env.ODD}`);
  });

  it('returns an empty object when the file is absent', () => {
    expect(loadStackEnv(path.join(os.tmpdir(), 'does-not-exist', 'stack.env'))).toEqual({});
  });
});
