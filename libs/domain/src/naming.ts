import { randomBytes } from 'node:crypto';

/** RFC 1123 label. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/**
 * Helm refuses release names longer than 53 characters, and the deployment uid is also the
 * release name, so uids stay within 53 although a namespace could take 63.
 */
export const MAX_DEPLOYMENT_UID = 53;
export const MAX_PRODUCT_NAME = 40;

export function isDnsLabel(s: string, max = 63): boolean {
  return s.length >= 1 && s.length <= max && DNS_LABEL.test(s);
}

/** A lower-case fully qualified host name: labels of 1-63, at least two, 253 in all. */
export function isDomainName(s: string): boolean {
  if (s.length > 253 || s !== s.toLowerCase()) return false;
  const labels = s.split('.');
  return labels.length >= 2 && labels.every((l) => isDnsLabel(l)) && !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/**
 * An allowed domain suffix as an admin may write it (`apps.example.com`, `.apps.example.com` or
 * `*.apps.example.com`), normalised to `apps.example.com`; null when it is not a host name suffix.
 */
export function normalizeDomainSuffix(raw: string): string | null {
  const s = raw
    .trim()
    .toLowerCase()
    .replace(/^\*?\./, '');
  if (s.length === 0 || s.length > 253) return null;
  return s.split('.').every((l) => isDnsLabel(l)) ? s : null;
}

/** True when `name` lies strictly under one of the (normalised) suffixes, on a label boundary. */
export function underDomainSuffix(name: string, suffixes: readonly string[]): boolean {
  return suffixes.some((s) => name.length > s.length + 1 && name.endsWith(`.${s}`));
}

function slug(s: string, max: number): string {
  const cleaned = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/g, '');
  return cleaned || 'x';
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomSuffix(length = 6): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** `<product>-<user>-<random>`: readable in kubectl output, unique by its suffix. */
export function makeDeploymentUid(productName: string, userEmail: string, suffix = randomSuffix()): string {
  const uid = `${slug(productName, 20)}-${slug(userEmail.split('@')[0], 16)}-${suffix}`;
  if (!isDnsLabel(uid, MAX_DEPLOYMENT_UID)) throw new Error(`generated uid ${uid} is not a DNS label`);
  return uid;
}
