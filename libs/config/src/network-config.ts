import { isIP, isIPv4, isIPv6 } from 'node:net';
import { Env, listIn } from './env-readers';

/** A comma-separated list of CIDRs (network addresses, IPv4 or IPv6); undefined when unset or empty. */
export function cidrsIn(env: Env, key: string, problems: string[]): string[] | undefined {
  const list = listIn(env, key);
  for (const cidr of list) {
    const problem = cidrProblem(cidr);
    if (problem) problems.push(`${key}: ${cidr} ${problem}`);
  }
  return list.length ? list : undefined;
}

/** Why a string is not a CIDR the Kubernetes API server takes as an ipBlock, or undefined. */
function cidrProblem(cidr: string): string | undefined {
  const [address, prefixText, ...rest] = cidr.split('/');
  const v6 = isIPv6(address);
  const bits = v6 ? 128 : 32;
  if (rest.length || !prefixText || !/^\d{1,3}$/.test(prefixText) || !(v6 || isIPv4(address)) || Number(prefixText) > bits) {
    return 'is not a CIDR such as 10.0.0.0/8 or fc00::/7';
  }
  const value = v6 ? ipv6ToBigInt(address) : address.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n);
  const hostBits = BigInt(bits - Number(prefixText));
  if (value & ((1n << hostBits) - 1n)) return 'has host bits set (give the network address)';
  return undefined;
}

function ipv6ToBigInt(address: string): bigint {
  // A dotted IPv4 tail (::ffff:10.0.0.1) is two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted ? address.slice(0, dotted.index) + [((+dotted[1] << 8) | +dotted[2]).toString(16), ((+dotted[3] << 8) | +dotted[4]).toString(16)].join(':') : address;
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

export function readTrustedProxies(env: Env, problems: string[]): string[] {
  const entries = listIn(env, 'CAELUS_TRUSTED_PROXIES');
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const ok = PROXY_NAMES.includes(e) || (family !== 0 && extra === undefined && (bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= max)));
    if (!ok) problems.push(`CAELUS_TRUSTED_PROXIES entries must be IP addresses, CIDRs or ${PROXY_NAMES.join('/')} (got "${e}")`);
  }
  return entries;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `apps.example.com`, `.apps.example.com` and `*.apps.example.com` all mean "names under apps.example.com". */
export function readDomainSuffixes(env: Env, problems: string[]): string[] {
  return listIn(env, 'CAELUS_ALLOWED_DOMAIN_SUFFIXES').map((raw) => {
    const s = raw.toLowerCase().replace(/^\*?\./, '');
    if (s.length > 253 || !s.split('.').every((l) => DNS_LABEL.test(l))) problems.push(`CAELUS_ALLOWED_DOMAIN_SUFFIXES entries must be host names such as apps.example.com (got "${raw}")`);
    return s;
  });
}
