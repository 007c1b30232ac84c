import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_DIR, logFile, REPO_ROOT } from '../paths';
import { run, tail, waitFor } from '../proc';
import { toolBinary } from '../tools';
import { HOST, KUBERNETES_VERSION, KWOK_CLUSTER_NAME, PORTS } from '../versions';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'kubernetes';
const KWOK_WORKDIR = path.join(LOCAL_DIR, 'kwok');
const CLUSTER_DIR = path.join(KWOK_WORKDIR, 'clusters', KWOK_CLUSTER_NAME);
export const KUBECONFIG = path.join(CLUSTER_DIR, 'kubeconfig.yaml');
const STAGES_FILE = path.join(REPO_ROOT, 'scripts', 'stack', 'kwok', 'stages.yaml');
const NODE_NAME = 'kwok-node-0';
const STORAGE_CLASS = 'kwok-volume';

/** Fake node and default StorageClass the KWOK stages act on (see kwok/stages.yaml). */
const CLUSTER_OBJECTS = `apiVersion: v1
kind: Node
metadata:
  name: ${NODE_NAME}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: ${NODE_NAME}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
spec: {}
status:
  allocatable: { cpu: "64", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti }
  capacity: { cpu: "64", memory: 256Gi, pods: "500", ephemeral-storage: 1Ti }
  nodeInfo:
    architecture: amd64
    kubeletVersion: fake
    kubeProxyVersion: fake
    operatingSystem: linux
  phase: Running
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
`;

/** The work directory a kwok cluster config records when it is not this checkout's; undefined otherwise. */
export function createdElsewhere(configFile = path.join(CLUSTER_DIR, 'kwok.yaml'), expected = CLUSTER_DIR): string | undefined {
  if (!fs.existsSync(configFile)) return undefined;
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  for (const m of fs.readFileSync(configFile, 'utf8').matchAll(/^\s*workDir:\s*(\S+)\s*$/gm)) {
    if (real(m[1]) !== real(expected)) return m[1];
  }
  return undefined;
}

/**
 * Whether the cluster's kwok.yaml names binaries other than the ones the pinned tools provide
 * (e.g. `kubeApiserverBinary: <cache>/kubernetes-<old version>/bin/kube-apiserver`).
 */
export function builtWithOtherBinaries(configFile = path.join(CLUSTER_DIR, 'kwok.yaml'), binary: (name: string) => string = toolBinary): boolean {
  if (!fs.existsSync(configFile)) return false;
  const keys: Record<string, string> = {
    kubeApiserverBinary: 'kube-apiserver',
    kubeControllerManagerBinary: 'kube-controller-manager',
    kubeSchedulerBinary: 'kube-scheduler',
    kwokControllerBinary: 'kwok',
    etcdBinary: 'etcd',
  };
  for (const m of fs.readFileSync(configFile, 'utf8').matchAll(/^\s*(\w+Binary):\s*(\S+)\s*$/gm)) {
    const name = keys[m[1]];
    if (name && m[2] !== binary(name)) return true;
  }
  return false;
}

/**
 * A real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
 * run by `kwokctl --runtime binary` from the cached binaries, with kwok faking the node.
 */
export class KubernetesComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);

  private kwokctlEnv(): NodeJS.ProcessEnv {
    // Every binary is given explicitly so kwokctl never reaches for the network.
    return {
      ...process.env,
      KWOK_WORKDIR,
      KWOK_KUBE_VERSION: `v${KUBERNETES_VERSION}`,
      KWOK_RUNTIME: 'binary',
      KWOK_KUBE_APISERVER_BINARY: toolBinary('kube-apiserver'),
      KWOK_KUBE_CONTROLLER_MANAGER_BINARY: toolBinary('kube-controller-manager'),
      KWOK_KUBE_SCHEDULER_BINARY: toolBinary('kube-scheduler'),
      KWOK_KUBECTL_BINARY: toolBinary('kubectl'),
      KWOK_CONTROLLER_BINARY: toolBinary('kwok'),
      KWOK_ETCD_BINARY: toolBinary('etcd'),
    };
  }

  private kwokctl(args: string[], timeoutMs = 300_000) {
    return run(toolBinary('kwokctl'), ['--name', KWOK_CLUSTER_NAME, ...args], { env: this.kwokctlEnv(), timeoutMs });
  }

  kubectl(args: string[], timeoutMs = 30_000) {
    return run(toolBinary('kubectl'), ['--kubeconfig', KUBECONFIG, ...args], { timeoutMs });
  }

  private async apiReady(): Promise<boolean> {
    if (!fs.existsSync(KUBECONFIG)) return false;
    const res = await this.kubectl(['get', '--raw', '/readyz'], 10_000);
    return res.code === 0 && res.stdout.trim() === 'ok';
  }

  private async nodeReady(): Promise<boolean> {
    const res = await this.kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return res.code === 0 && res.stdout.trim() === 'True';
  }

  async health(): Promise<Health> {
    if (!(await this.apiReady())) return { ok: false, detail: `kube-apiserver ${this.server()} not ready` };
    if (!(await this.nodeReady())) return { ok: false, detail: `node ${NODE_NAME} not Ready` };
    return { ok: true, detail: `${this.server()}, node ${NODE_NAME} Ready` };
  }

  async up(log: Log): Promise<void> {
    try {
      if (!(await this.apiReady())) {
        const elsewhere = createdElsewhere();
        if (elsewhere) {
          // kwokctl records absolute paths: a moved checkout (or a cluster made through a symlinked .local)
          // cannot be started from here. Its state is only test data, so it is made afresh.
          log(`kubernetes: the kwok cluster in .local was created at ${elsewhere}; recreating it here`);
          fs.rmSync(CLUSTER_DIR, { recursive: true, force: true });
        } else if (builtWithOtherBinaries()) {
          // kwokctl also records the binaries' paths: after a tool version bump (a new cache directory)
          // or a cleared cache, starting it would run old binaries or none.
          log('kubernetes: the kwok cluster in .local was created with other tool binaries; recreating it');
          fs.rmSync(CLUSTER_DIR, { recursive: true, force: true });
        }
        if (fs.existsSync(path.join(CLUSTER_DIR, 'kwok.yaml'))) {
          log('kubernetes: starting the existing kwok cluster');
          await this.logged('start', await this.kwokctl(['start', 'cluster', '--wait', '2m']));
        } else {
          log(`kubernetes: creating kwok cluster "${KWOK_CLUSTER_NAME}" (Kubernetes v${KUBERNETES_VERSION}, binary runtime)`);
          await this.create();
        }
        await waitFor('kube-apiserver /readyz', () => this.apiReady(), 120_000, 1000);
      }
      const objects = await this.kubectl(['get', `node/${NODE_NAME}`, `storageclass/${STORAGE_CLASS}`, '-o', 'name']);
      if (objects.code !== 0) {
        log('kubernetes: adding the fake node and the default StorageClass');
        const res = await run(toolBinary('kubectl'), ['--kubeconfig', KUBECONFIG, 'apply', '-f', '-'], { input: CLUSTER_OBJECTS });
        await this.logged('apply cluster objects', res);
      }
      await waitFor(`node ${NODE_NAME} Ready`, () => this.nodeReady(), 60_000, 1000);
    } catch (err) {
      if (err instanceof ComponentError) throw err;
      throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}\n  component logs: ${path.join(CLUSTER_DIR, 'logs')}`);
    }
  }

  private async create(): Promise<void> {
    fs.mkdirSync(KWOK_WORKDIR, { recursive: true });
    const configFile = path.join(KWOK_WORKDIR, 'kwokctl.yaml');
    const options = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: v${KUBERNETES_VERSION}
  bindAddress: ${HOST}
  kubeApiserverPort: ${PORTS.kubeApiserver}
  quietPull: true
`;
    // Passing Stage objects replaces kwokctl's built-in ones, so stages.yaml carries all.
    fs.writeFileSync(configFile, `${options}---\n${fs.readFileSync(STAGES_FILE, 'utf8')}`);
    const res = await this.kwokctl(
      [
        '--config',
        configFile,
        'create',
        'cluster',
        '--runtime',
        'binary',
        // An empty value keeps kwokctl away from ~/.kube/config.
        '--kubeconfig',
        '',
        '--kube-apiserver-port',
        String(PORTS.kubeApiserver),
        '--kube-apiserver-binary',
        toolBinary('kube-apiserver'),
        '--kube-controller-manager-binary',
        toolBinary('kube-controller-manager'),
        '--kube-scheduler-binary',
        toolBinary('kube-scheduler'),
        '--kwok-controller-binary',
        toolBinary('kwok'),
        '--etcd-binary',
        toolBinary('etcd'),
        '--wait',
        '3m',
      ],
      600_000,
    );
    await this.logged('create', res);
  }

  private async logged(what: string, res: { code: number; stdout: string; stderr: string }): Promise<void> {
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    fs.appendFileSync(this.logFile, `\n--- ${new Date().toISOString()} kwokctl ${what} (exit ${res.code})\n${res.stdout}${res.stderr}`);
    if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `${what} failed (exit ${res.code})\n${tail(this.logFile)}`);
  }

  async down(): Promise<string> {
    if (!fs.existsSync(path.join(CLUSTER_DIR, 'kwok.yaml'))) return 'no cluster';
    const res = await this.kwokctl(['stop', 'cluster'], 120_000);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    fs.appendFileSync(this.logFile, `\n--- ${new Date().toISOString()} kwokctl stop (exit ${res.code})\n${res.stdout}${res.stderr}`);
    return res.code === 0 ? 'stopped (state kept in .local/kwok)' : `kwokctl stop failed, see ${this.logFile}`;
  }

  private server(): string {
    return `https://${HOST}:${PORTS.kubeApiserver}`;
  }

  endpoints(): Array<[string, string]> {
    return [
      ['Kubernetes API', this.server()],
      ['KUBECONFIG', KUBECONFIG],
    ];
  }

  env(): Record<string, string> {
    // KWOK_WORKDIR lets `kwokctl --name caelus ...` from CAELUS_TOOLS_BIN find the cluster.
    return { KUBECONFIG, KWOK_WORKDIR };
  }
}
