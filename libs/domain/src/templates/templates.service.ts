import { randomUUID } from 'node:crypto';
import { valid as semverValid, validRange } from 'semver';
import { Page, PageRequest, ProductsRepository, RELEASE_BACKENDS, TemplateCapabilities, TemplatesRepository, TemplateVersionEntity, uniqueViolation } from '../../../persistence/src';
import { conflict, FieldProblem, invalidInput, notFound } from '../errors';
import { isPlainObject, jsonDepth, redactAllSealed, redactSecrets, reservedKeyProblems, SecretBox, sealSecrets, secretLocations, templateOwner, ValuesValidator } from '../values';
import { parseChartRef } from './chart-ref';
import { readPage } from '../pagination';

export interface CreateTemplateInput {
  version: string;
  chartRef: string;
  chartVersion: string;
  chartDigest?: string;
  defaultValues?: Record<string, unknown>;
  valuesSchema?: Record<string, unknown>;
  capabilities?: TemplateCapabilities;
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Exactly a semantic version: semver.valid() also takes "v1.2.3" and surrounding spaces, which would then be stored as given. */
function isSemver(v: string): boolean {
  return v.length <= 64 && /^[0-9]/.test(v) && !/\s/.test(v) && semverValid(v) !== null;
}

function checkCapabilities(c: unknown, chartKind: 'oci' | 'local' | undefined): FieldProblem[] {
  if (c === undefined) return [];
  if (!isPlainObject(c)) return [{ field: 'capabilities', message: 'must be an object' }];
  const problems: FieldProblem[] = [];
  const allowed = new Set(['quota', 'limits', 'upgradePolicy', 'backend']);
  for (const k of Object.keys(c)) if (!allowed.has(k)) problems.push({ field: `capabilities.${k}`, message: 'is not a known capability' });
  const quantities = (obj: unknown, field: string) => {
    if (obj === undefined) return;
    if (!isPlainObject(obj)) return problems.push({ field, message: 'must be an object of resource quantities' });
    for (const [k, v] of Object.entries(obj)) {
      if (!/^[a-z0-9./-]{1,63}$/i.test(k) || typeof v !== 'string' || !QUANTITY.test(v)) problems.push({ field: `${field}.${k}`, message: 'must be a resource quantity such as "500m" or "1Gi"' });
    }
  };
  quantities(c.quota, 'capabilities.quota');
  if (c.limits !== undefined) {
    if (!isPlainObject(c.limits)) problems.push({ field: 'capabilities.limits', message: 'must be an object' });
    else for (const k of ['default', 'defaultRequest', 'max'] as const) quantities(c.limits[k], `capabilities.limits.${k}`);
  }
  if (c.upgradePolicy !== undefined) {
    const up = c.upgradePolicy;
    if (!isPlainObject(up) || (up.allowFrom !== undefined && (typeof up.allowFrom !== 'string' || !validRange(up.allowFrom))))
      problems.push({ field: 'capabilities.upgradePolicy', message: 'must be { allowFrom?: semver range }' });
  }
  if (c.backend !== undefined) {
    if (typeof c.backend !== 'string' || !(RELEASE_BACKENDS as readonly string[]).includes(c.backend))
      problems.push({ field: 'capabilities.backend', message: `must be one of ${RELEASE_BACKENDS.map((b) => `"${b}"`).join(', ')}` });
    // Flux's source-controller pulls the chart itself: it cannot read a directory on the worker.
    else if (c.backend === 'flux' && chartKind === 'local')
      problems.push({ field: 'capabilities.backend', message: 'flux needs an oci:// chart (pinned by chartDigest), not a local chart directory' });
  }
  return problems;
}

export class TemplatesService {
  constructor(
    private readonly products: ProductsRepository,
    private readonly templates: TemplatesRepository,
    private readonly validator: ValuesValidator,
    private readonly chartRoots: readonly string[],
    private readonly box: SecretBox,
  ) {}

  async create(productId: string, input: CreateTemplateInput): Promise<TemplateVersionEntity> {
    const product = await this.products.findActiveById(productId);
    if (!product) throw notFound('product', productId);

    const problems: FieldProblem[] = [];
    if (!isSemver(input.version)) problems.push({ field: 'version', message: 'must be a semantic version such as 1.2.3' });
    if (!isSemver(input.chartVersion)) problems.push({ field: 'chartVersion', message: 'must be a semantic version such as 1.2.3' });
    const chart = parseChartRef(input.chartRef, this.chartRoots);
    problems.push(...chart.problems);
    if (input.chartDigest !== undefined && !DIGEST.test(input.chartDigest)) problems.push({ field: 'chartDigest', message: 'must be sha256:<64 lower-case hex>' });
    if (chart.source?.kind === 'oci' && input.chartDigest === undefined) problems.push({ field: 'chartDigest', message: 'is required for oci:// charts: template versions are pinned by digest' });
    if (input.defaultValues !== undefined && (!isPlainObject(input.defaultValues) || jsonDepth(input.defaultValues) > 32))
      problems.push({ field: 'defaultValues', message: 'must be an object nested at most 32 levels' });
    if (input.valuesSchema !== undefined) problems.push(...this.validator.checkSchema(input.valuesSchema));
    problems.push(...reservedKeyProblems(input.defaultValues, 'defaultValues'), ...reservedKeyProblems(input.valuesSchema, 'valuesSchema'));
    problems.push(...checkCapabilities(input.capabilities, chart.source?.kind));
    if (problems.length) throw invalidInput('the template is not valid', problems);

    // Default values the schema marks secret are sealed like a deployment's, bound to the template's id.
    const id = randomUUID();
    const defaults = input.defaultValues ?? {};
    const defaultValues = sealSecrets(defaults, secretLocations(input.valuesSchema, defaults), this.box, templateOwner(id));
    let saved: TemplateVersionEntity;
    try {
      saved = await this.templates.insert({
        id,
        productId,
        version: input.version,
        chartRef: input.chartRef,
        chartVersion: input.chartVersion,
        chartDigest: input.chartDigest ?? null,
        defaultValues,
        valuesSchema: input.valuesSchema ?? null,
        capabilities: input.capabilities ?? {},
      });
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`version ${input.version} of this product already exists; template versions are immutable`, [{ field: 'version', message: 'already exists' }]);
      throw err;
    }
    return redactedDefaults(saved);
  }

  async list(productId: string, page: PageRequest): Promise<Page<TemplateVersionEntity>> {
    if (!(await this.products.findActiveById(productId))) throw notFound('product', productId);
    const res = await readPage(() => this.templates.listByProduct(productId, page));
    return { ...res, items: res.items.map(redactedDefaults) };
  }

  async get(productId: string, templateId: string): Promise<TemplateVersionEntity> {
    const t = await this.templates.findActiveById(templateId);
    if (!t || t.productId !== productId) throw notFound('template', templateId);
    return redactedDefaults(t);
  }

  /** Soft delete: no new deployment or upgrade may target it; running deployments keep it. */
  async delete(productId: string, templateId: string): Promise<void> {
    const t = await this.templates.findById(templateId);
    if (!t || t.productId !== productId) throw notFound('template', templateId);
    if (!t.deletedAt) await this.templates.softDelete(templateId);
  }
}

/** What the API shows of a template: secret defaults as the redaction marker, sealed or not (rows from before they were sealed). */
function redactedDefaults(t: TemplateVersionEntity): TemplateVersionEntity {
  const defaults = redactAllSealed(t.defaultValues ?? {}) as Record<string, unknown>;
  return { ...t, defaultValues: redactSecrets(defaults, secretLocations(t.valuesSchema, defaults)) };
}
