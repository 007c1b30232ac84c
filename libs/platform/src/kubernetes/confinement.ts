import type { DiscoveryCache } from './discovery';
import type { KubeObject } from './kube.types';
import { parseManifest } from './manifest';

/** The rules a tenant release's objects must follow; every refusal names one. */
export const CONFINEMENT_RULES = {
  namespaced: 'every object must be of a namespaced kind',
  sameNamespace: "every object must be in the deployment's namespace",
  servedKind: 'every object must be of a kind the API server serves',
  parseable: 'the rendered manifest must parse as Kubernetes objects',
} as const;
export type ConfinementRule = keyof typeof CONFINEMENT_RULES;

export interface ConfinementViolation {
  rule: ConfinementRule;
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  /** One line naming the object and the rule. */
  message: string;
}

/** At most this many violations are spelled out in the error message. */
const MAX_LISTED = 3;

/**
 * A release renders something outside its deployment's namespace (or a cluster-scoped object).
 * Not retryable: the same desired state renders the same objects.
 */
export class ConfinementError extends Error {
  override readonly name = 'ConfinementError';
  readonly retryable = false;

  constructor(
    /** Which manifest was refused: "rendered manifest", "stored release revision 3"… */
    readonly subject: string,
    readonly violations: ConfinementViolation[],
  ) {
    const listed = violations.slice(0, MAX_LISTED).map((v) => v.message);
    const more = violations.length > MAX_LISTED ? `; and ${violations.length - MAX_LISTED} more` : '';
    super(`${subject} refused, nothing applied: ${listed.join('; ')}${more}`);
  }
}

/** Reviews a manifest before anything of it is applied; throws ConfinementError when it breaks a rule. */
export interface ManifestReview {
  review(manifest: string, namespace: string, subject?: string): Promise<KubeObject[]>;
}

/**
 * Checks that every object of a manifest is namespaced (as the API server's discovery says, no
 * list of kinds here) and in the deployment's namespace (or has none, meaning the release's).
 */
export class ConfinementChecker implements ManifestReview {
  constructor(private readonly discovery: Pick<DiscoveryCache, 'isNamespaced'>) {}

  /** The objects of the manifest, once they all passed; ConfinementError otherwise. */
  async review(manifest: string, namespace: string, subject = 'rendered manifest'): Promise<KubeObject[]> {
    let objects: KubeObject[];
    try {
      objects = parseManifest(manifest);
    } catch (err) {
      const reason = (err as Error).message.slice(0, 200);
      throw new ConfinementError(subject, [{ rule: 'parseable', message: `${reason} (rule: ${CONFINEMENT_RULES.parseable})` }]);
    }
    const violations = await this.violations(objects, namespace);
    if (violations.length) throw new ConfinementError(subject, violations);
    return objects;
  }

  async violations(objects: KubeObject[], namespace: string): Promise<ConfinementViolation[]> {
    const out: ConfinementViolation[] = [];
    for (const obj of objects) {
      const v = await this.check(obj, namespace);
      if (v) out.push(v);
    }
    return out;
  }

  private async check(obj: KubeObject, namespace: string): Promise<ConfinementViolation | undefined> {
    const { apiVersion, kind } = obj;
    const name = obj.metadata.name;
    // Empty means the release's namespace, as helm fills it in; anything else (even a number) is compared as text.
    const raw = obj.metadata.namespace as unknown;
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value a chart put there is compared as text, on purpose
    const objNamespace = raw === undefined || raw === null || raw === '' ? undefined : String(raw);
    const where = objNamespace ? ` in namespace ${quote(objNamespace)}` : '';
    const what = `${kind} ${quote(name)}${where} (${apiVersion})`;
    const namespaced = await this.discovery.isNamespaced(apiVersion, kind);
    if (namespaced === undefined) {
      return { rule: 'servedKind', apiVersion, kind, name, namespace: objNamespace, message: `${what}: kind not served by the API server (rule: ${CONFINEMENT_RULES.servedKind})` };
    }
    if (!namespaced) {
      return { rule: 'namespaced', apiVersion, kind, name, namespace: objNamespace, message: `${what}: cluster-scoped (rule: ${CONFINEMENT_RULES.namespaced})` };
    }
    if (objNamespace !== undefined && objNamespace !== namespace) {
      return {
        rule: 'sameNamespace',
        apiVersion,
        kind,
        name,
        namespace: objNamespace,
        message: `${what}: outside namespace ${quote(namespace)} (rule: ${CONFINEMENT_RULES.sameNamespace})`,
      };
    }
    return undefined;
  }
}

/** Object names come from rendered values: quoted and bounded in messages. */
function quote(text: string): string {
  const s = String(text);
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 79)}…` : s);
}
