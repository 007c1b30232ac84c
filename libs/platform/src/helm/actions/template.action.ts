import { assertNamespaceName, assertReleaseName, resolveChart, templateArgs } from '../helm.args';
import { helmFailure, QUICK_TIMEOUT_SECONDS } from '../helm.process';
import type { TemplateRequest } from '../helm.types';
import { withValuesFile } from '../values-file';
import type { HelmActionContext } from './helm-action.context';

/** `helm template`: renders the chart with the values (for previews); nothing touches the cluster. */
export async function template(ctx: HelmActionContext, req: TemplateRequest): Promise<string> {
  assertReleaseName(req.release);
  assertNamespaceName(req.namespace);
  const chart = await resolveChart(req.chart, ctx.options);
  return withValuesFile(req.values, async (valuesFile) => {
    const result = await ctx.process.run(templateArgs({ release: req.release, namespace: req.namespace, chart, valuesFile }), {
      operation: 'template',
      timeoutSeconds: req.timeoutSeconds ?? QUICK_TIMEOUT_SECONDS,
      values: req.values,
      valuesFile,
      publicStrings: [req.release, req.namespace],
      signal: req.signal,
      onProgress: req.onProgress,
      owner: req.owner,
    });
    if (result.code !== 0) throw helmFailure('template', result);
    return result.stdout;
  });
}
