import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Test fixture only: the helm runner's specs run this script in place of helm.

export const CHART_ROOT = resolve(__dirname, '../../charts/examples');
export const WEBAPP_1_0_0 = join(CHART_ROOT, 'webapp-1.0.0');

/**
 * A stand-in for the helm binary: records its argv (NUL-separated, so any character survives)
 * and what the values file looked like while it ran, then behaves as FAKE_HELM_MODE says.
 */
export const FAKE_HELM = `#!/bin/sh
dir="$FAKE_HELM_DIR"
: > "$dir/args"
prev=""
for a in "$@"; do
  printf '%s\\0' "$a" >> "$dir/args"
  if [ "$prev" = "--values" ]; then
    stat -c '%a' "$a" > "$dir/values.mode"
    cat "$a" > "$dir/values.copy"
    printf '%s' "$a" > "$dir/values.path"
  fi
  prev="$a"
done
# stdin as the inside of a JSON string (backslashes, quotes and newlines escaped, a last newline kept).
json_text() {
  { cat; printf x; } | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' | awk 'NR > 1 { printf "\\\\n" } { printf "%s", $0 }' | sed 's/x$//'
}
case "$FAKE_HELM_MODE" in
  ok)
    echo 'upgrade.go:150: [debug] preparing upgrade for web' >&2
    echo 'client.go:486: [debug] creating 1 resource(s) for s3cret-title-value' >&2
    echo '{"name":"web","namespace":"ns1","version":2,"info":{"status":"deployed","description":"Upgrade complete"},"chart":{"metadata":{"name":"webapp","version":"1.0.0","appVersion":"1.27"},"values":{"user":{"adminPassword":"hunter2-secret"}}}}'
    ;;
  schema)
    printf "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\\nwebapp:\\n- at '/user/adminPassword': 'hunter2-secret' does not match pattern\\n" >&2
    exit 1
    ;;
  notfound) echo 'Error: release: not found' >&2; exit 1 ;;
  uninstall-kept) printf 'These resources were kept due to the resource policy:\\n[PersistentVolumeClaim] web-data\\n\\nrelease "web" uninstalled\\n' ;;
  postrender)
    # Like helm: a dry run prints the release it rendered and applies nothing; an upgrade renders
    # through the post-renderer (when given), applies only what it printed and prints the release.
    : > "$dir/applied"
    pr=""; pra=""; prev=""; dry=""
    for a in "$@"; do
      [ "$prev" = "--post-renderer" ] && pr="$a"
      [ "$prev" = "--post-renderer-args" ] && pra="$pra $a"
      [ "$a" = "--dry-run=server" ] && dry=1
      prev="$a"
    done
    if [ -n "$dry" ]; then
      if [ -n "$pr" ]; then printf '%s' "$FAKE_MANIFEST" | "$pr" $pra > /dev/null; fi
      if [ -n "$FAKE_DRYRUN_ERROR" ]; then printf 'Error: %s\n' "$FAKE_DRYRUN_ERROR" >&2; exit 1; fi
      if [ -n "$FAKE_DRYRUN_JSON" ]; then printf '%s' "$FAKE_DRYRUN_JSON"; exit 0; fi
      printf '{"name":"web","namespace":"ns1","version":2,"info":{"status":"pending-upgrade"},"manifest":"%s"}' "$(printf '%s' "$FAKE_MANIFEST" | json_text)"
      exit 0
    fi
    rendered="\${FAKE_UPGRADE_MANIFEST:-$FAKE_MANIFEST}"
    # A helm that would skip its post-renderer.
    [ -n "$FAKE_IGNORE_POST_RENDERER" ] && pr=""
    if [ -z "$pr" ]; then
      printf '%s' "$rendered" > "$dir/applied"
    elif ! printf '%s' "$rendered" | "$pr" $pra > "$dir/applied" 2> "$dir/pr.err"; then
      printf 'Error: UPGRADE FAILED: error while running post render on files: %s\n' "$(cat "$dir/pr.err")" >&2
      exit 1
    fi
    printf '{"name":"web","namespace":"ns1","version":2,"info":{"status":"deployed"},"manifest":"%s"}' "$(json_text < "$dir/applied")"
    ;;
  hang) echo 'started' >&2; exec sleep 30 ;;
  ignore-term) trap '' TERM; echo 'started' >&2; while :; do sleep 0.1; done ;;
esac
`;

/** FAKE_HELM as an executable `helm` in a fresh directory; `remove` deletes the directory. */
export async function installFakeHelm(): Promise<{ dir: string; helmBin: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-helm-'));
  const helmBin = join(dir, 'helm');
  await writeFile(helmBin, FAKE_HELM);
  await chmod(helmBin, 0o755);
  return { dir, helmBin, remove: () => rm(dir, { recursive: true, force: true }) };
}
