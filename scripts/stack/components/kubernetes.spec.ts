import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtWithOtherBinaries, createdElsewhere } from './kubernetes';

describe(createdElsewhere.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-kwok-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const config = (workDir: string) => {
    const file = path.join(dir, 'kwok.yaml');
    fs.writeFileSync(file, `kind: KwokctlConfiguration\noptions:\n  kubeApiserverPort: 6443\ncomponents:\n- name: etcd\n  workDir: ${workDir}\n- name: kube-apiserver\n  workDir: ${workDir}\n`);
    return file;
  };

  it('returns nothing when there is no cluster config', () => {
    expect(createdElsewhere(path.join(dir, 'kwok.yaml'), dir)).toBeUndefined();
  });

  it('returns nothing for a cluster made in this directory, also through a symlink', () => {
    const link = path.join(dir, 'link');
    fs.symlinkSync(dir, link);
    expect(createdElsewhere(config(dir), dir)).toBeUndefined();
    expect(createdElsewhere(config(link), dir)).toBeUndefined();
  });

  it('names the directory a moved checkout recorded', () => {
    expect(createdElsewhere(config('/elsewhere/.local/kwok/clusters/caelus'), dir)).toBe('/elsewhere/.local/kwok/clusters/caelus');
  });
});

describe(builtWithOtherBinaries.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-kwok-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const binary = (name: string) => `/cache/kubernetes-2/bin/${name}`;
  const config = (apiserver: string) => {
    const file = path.join(dir, 'kwok.yaml');
    const lines = [
      'options:',
      '  etcdBinary: /cache/kubernetes-2/bin/etcd',
      '  etcdctlBinary: https://example.invalid/etcd.tar.gz#etcdctl',
      `  kubeApiserverBinary: ${apiserver}`,
      '  kubeControllerManagerBinary: /cache/kubernetes-2/bin/kube-controller-manager',
      '  kubeSchedulerBinary: /cache/kubernetes-2/bin/kube-scheduler',
      '  kwokControllerBinary: /cache/kubernetes-2/bin/kwok',
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };

  it('is false without a cluster config', () => {
    expect(builtWithOtherBinaries(path.join(dir, 'kwok.yaml'), binary)).toBe(false);
  });

  it('is false when every control-plane binary is the pinned one (download URLs of unused tools aside)', () => {
    expect(builtWithOtherBinaries(config('/cache/kubernetes-2/bin/kube-apiserver'), binary)).toBe(false);
  });

  it('is true when one names an older tool directory', () => {
    expect(builtWithOtherBinaries(config('/cache/kubernetes-1/bin/kube-apiserver'), binary)).toBe(true);
  });
});
