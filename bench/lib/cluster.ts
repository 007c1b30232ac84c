/** Cluster clean-up: the bench's namespaces (and with them its Helm releases) go away. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mapLimit } from './util';

const run = promisify(execFile);

export interface KubectlEnv {
  toolsBin: string;
  kubeconfig: string;
}

/** Starts deleting the namespaces (Helm's release Secrets live in them); does not wait for them to go. */
export async function deleteNamespaces(k: KubectlEnv, names: string[]): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += 25) chunks.push(names.slice(i, i + 25));
  // kubectl deletes one namespace after the other: a few of them side by side.
  await mapLimit(chunks, 6, (chunk) =>
    run(join(k.toolsBin, 'kubectl'), ['--kubeconfig', k.kubeconfig, 'delete', 'namespace', ...chunk, '--wait=false', '--ignore-not-found'], {
      maxBuffer: 16 * 1024 * 1024,
    }),
  );
}

/** Namespaces whose names start with the prefix (left over by an interrupted run). */
export async function namespacesWithPrefix(k: KubectlEnv, prefix: string): Promise<string[]> {
  const { stdout } = await run(join(k.toolsBin, 'kubectl'), ['--kubeconfig', k.kubeconfig, 'get', 'namespaces', '-o', 'name'], { maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .split('\n')
    .map((l) => l.replace(/^namespace\//, '').trim())
    .filter((n) => n.startsWith(prefix));
}

/**
 * Free ClusterIPs: the size of the cluster's ServiceCIDRs minus the allocated IPAddress objects
 * (Kubernetes ≥ 1.33). Undefined when the cluster does not expose them.
 */
export async function freeServiceIps(k: KubectlEnv): Promise<{ capacity: number; used: number; free: number } | undefined> {
  const kubectl = (args: string[]) => run(join(k.toolsBin, 'kubectl'), ['--kubeconfig', k.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
  try {
    const cidrs = JSON.parse((await kubectl(['get', 'servicecidrs', '-o', 'json'])).stdout) as { items: { spec?: { cidrs?: string[] } }[] };
    let capacity = 0;
    for (const item of cidrs.items) {
      for (const cidr of item.spec?.cidrs ?? []) {
        const [addr, bits] = cidr.split('/');
        if (addr.includes(':')) continue; // IPv6 ranges are large enough
        capacity += 2 ** (32 - Number(bits)) - 2;
      }
    }
    const used = (await kubectl(['get', 'ipaddresses', '--no-headers'])).stdout.split('\n').filter(Boolean).length;
    return { capacity, used, free: capacity - used };
  } catch {
    return undefined;
  }
}

/** Waits until none of the namespaces exists any more (their Services' IPs are free again). */
export async function waitNamespacesGone(k: KubectlEnv, names: string[], timeoutMs: number): Promise<boolean> {
  const wanted = new Set(names);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await run(join(k.toolsBin, 'kubectl'), ['--kubeconfig', k.kubeconfig, 'get', 'namespaces', '-o', 'name'], { maxBuffer: 16 * 1024 * 1024 });
    const left = stdout.split('\n').filter((l) => wanted.has(l.replace(/^namespace\//, '').trim()));
    if (left.length === 0) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Pods the cluster's nodes still take: their allocatable pods minus the pods that are not finished. */
export async function freePods(k: KubectlEnv): Promise<number | undefined> {
  const kubectl = (args: string[]) => run(join(k.toolsBin, 'kubectl'), ['--kubeconfig', k.kubeconfig, ...args], { maxBuffer: 256 * 1024 * 1024 });
  try {
    const nodes = JSON.parse((await kubectl(['get', 'nodes', '-o', 'json'])).stdout) as { items: { status?: { allocatable?: { pods?: string } } }[] };
    const capacity = nodes.items.reduce((a, n) => a + Number(n.status?.allocatable?.pods ?? 0), 0);
    const pods = (await kubectl(['get', 'pods', '-A', '--no-headers', '--field-selector', 'status.phase!=Succeeded,status.phase!=Failed'])).stdout.split('\n').filter(Boolean).length;
    return capacity - pods;
  } catch {
    return undefined;
  }
}
