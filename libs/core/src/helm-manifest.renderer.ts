import { ManifestRenderer } from '../../domain/src';
import { HelmRunner } from '../../platform/src';

/** The domain's ManifestRenderer port on the platform's helm runner (`helm template`, no cluster access). */
export class HelmManifestRenderer implements ManifestRenderer {
  constructor(
    private readonly helm: Pick<HelmRunner, 'template'>,
    private readonly timeoutSeconds = 60,
  ) {}

  render(request: Parameters<ManifestRenderer['render']>[0]): Promise<string> {
    return this.helm.template({ ...request, timeoutSeconds: this.timeoutSeconds });
  }
}
