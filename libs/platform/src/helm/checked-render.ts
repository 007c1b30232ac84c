/**
 * How `helm upgrade --install` applies only what the confinement check saw, with one cheap
 * render for the check and no bridge process.
 *
 * helm 3.22 hands only the non-hook manifest to a post-renderer, so a post-renderer alone never
 * sees the hooks. Instead:
 * 1. a server-side dry run of the same command (same chart, values, identity and cluster, so
 *    `lookup`, `.Capabilities` and `.Release.IsUpgrade` render as in the upgrade) prints the
 *    release: its manifest and its hooks, which the worker checks in-process. Like the upgrade it
 *    skips helm's client-side OpenAPI check (see upgradeInstallArgs in ./helm.args.ts). Its
 *    post-renderer is `tee <file>`: an install's dry run reads each object as the tenant and
 *    stops, forbidden, at one outside the namespace before printing anything; the kept manifest
 *    then says which object and rule;
 * 2. the upgrade runs with `cat <checked manifest>` as its post-renderer: helm applies exactly
 *    the checked bytes, whatever its second render made, and no Node process starts per render;
 * 3. the release the upgrade prints is compared with the check: the manifest must be the checked
 *    one; hooks rendered differently the second time (a chart using randomness or the clock) are
 *    checked too, after the fact, and the tenant's RBAC forbids anything outside its namespace.
 */

export interface RenderedRelease {
  /** The non-hook manifest, as helm stores it (empty when the chart renders only hooks). */
  manifest: string;
  /** Each hook's manifest, in helm's order. */
  hooks: string[];
}

/** The post-renderer that prints the checked manifest and ignores helm's own render. */
export const SUBSTITUTE_POST_RENDERER = 'cat';
/** The post-renderer that keeps a copy of helm's render and passes it on unchanged. */
export const KEEP_POST_RENDERER = 'tee';

const NO_OPENAPI_CHECK = '--disable-openapi-validation';

/**
 * The dry run that renders for the check: no wait, server-side (lookups and capabilities), no
 * client-side OpenAPI check (the upgrade's arguments already skip it), and the rendered manifest
 * kept in `keepFile`.
 */
export function checkRenderArgs(upgradeArgs: readonly string[], keepFile: string): string[] {
  const noOpenApi = upgradeArgs.includes(NO_OPENAPI_CHECK) ? [] : [NO_OPENAPI_CHECK];
  return [...upgradeArgs.filter((a) => a !== '--wait'), '--dry-run=server', ...noOpenApi, '--post-renderer', KEEP_POST_RENDERER, '--post-renderer-args', keepFile];
}

/** helm flags that make it apply `manifestFile` in place of what it rendered. */
export function applyCheckedArgs(manifestFile: string, bin = SUBSTITUTE_POST_RENDERER): string[] {
  return ['--post-renderer', bin, '--post-renderer-args', manifestFile];
}

/** The manifest and hooks of a release `helm upgrade -o json` prints (helm omits an empty manifest). */
export function parseRenderedRelease(stdout: string): RenderedRelease {
  const rel = JSON.parse(stdout) as { manifest?: unknown; hooks?: { manifest?: unknown }[] | null };
  const manifest = typeof rel.manifest === 'string' ? rel.manifest : '';
  const hooks = (rel.hooks ?? []).map((h) => h?.manifest).filter((m): m is string => typeof m === 'string');
  return { manifest, hooks };
}

export interface UncheckedParts {
  /** The applied manifest is not the checked one. */
  manifest: boolean;
  /** Applied hooks that were not among the checked ones. */
  hooks: string[];
}

/** What the upgrade applied that the check did not see. */
export function uncheckedParts(checked: RenderedRelease, applied: RenderedRelease): UncheckedParts {
  const seen = new Set(checked.hooks);
  return { manifest: applied.manifest !== checked.manifest, hooks: applied.hooks.filter((h) => !seen.has(h)) };
}
