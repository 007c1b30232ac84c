import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FieldProblem } from '../errors';

/** oci://host[:port]/repo/path — lower-case repository path, no tag or digest (those are separate fields). */
const OCI_REF = /^oci:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?)(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

export type ChartSource = { kind: 'oci'; ref: string; registry: string } | { kind: 'local'; path: string };

/**
 * Accepts an `oci://` reference or a local chart directory that resolves (after symlinks)
 * inside one of the allowed roots. Anything else — relative escapes, flags, shell text — is refused.
 */
export function parseChartRef(chartRef: string, chartRoots: readonly string[]): { source?: ChartSource; problems: FieldProblem[] } {
  const bad = (message: string) => ({ problems: [{ field: 'chartRef', message }] });
  if (chartRef.length > 512) return bad('must be at most 512 characters');
  if (/[\s\0]/.test(chartRef) || chartRef.startsWith('-')) return bad('must not contain whitespace or start with "-"');
  if (chartRef.startsWith('oci://')) {
    const m = OCI_REF.exec(chartRef);
    if (!m) return bad('must be oci://host[:port]/repository with a lower-case repository path');
    return { source: { kind: 'oci', ref: chartRef, registry: m[1] }, problems: [] };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(chartRef)) return bad('only oci:// references or local chart paths are accepted');
  if (!isAbsolute(chartRef)) return bad('a local chart path must be absolute');
  if (chartRoots.length === 0) return bad('local chart paths are disabled (CAELUS_CHART_ROOTS is empty)');
  const lexical = resolve(chartRef);
  if (!existsSync(lexical)) return bad('does not exist on the control plane');
  const real = realpathSync(lexical);
  const inside = chartRoots.some((root) => {
    const r = existsSync(root) ? realpathSync(root) : resolve(root);
    const rel = relative(r, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
  });
  if (!inside) return bad('must be inside one of the allowed chart roots (CAELUS_CHART_ROOTS)');
  if (!statSync(real).isDirectory() || !existsSync(resolve(real, 'Chart.yaml'))) return bad('must be a chart directory containing Chart.yaml');
  return { source: { kind: 'local', path: real }, problems: [] };
}
