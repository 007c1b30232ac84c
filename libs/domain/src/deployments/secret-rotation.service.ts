import { DataSource } from 'typeorm';
import { DeploymentsRepository } from '../../../persistence/src';
import { resealAll, SecretBox } from '../values';

export interface RotationReport {
  /** Deployments looked at (deleted ones too: their rows keep sealed values). */
  scanned: number;
  /** Deployments whose values were re-sealed with the current key. */
  updated: number;
  /** Sealed values re-sealed in all. */
  values: number;
  /** Deployments whose values no configured key opens (ids only, never values). */
  failed: { deploymentId: string; reason: string }[];
}

/**
 * The second half of an encryption key rotation: once every process seals with the new key and
 * still opens with the old one, re-seal what the old key sealed. Each deployment is re-sealed
 * in its own transaction under the row lock that API writes take too, so a concurrent change is
 * never lost. Generations do not move: the values are the same, no workflow is woken.
 */
export class SecretRotationService {
  constructor(
    private readonly db: DataSource,
    private readonly deployments: DeploymentsRepository,
    private readonly box: SecretBox,
  ) {}

  async resealDeployments(options: { batchSize?: number; onProgress?: (report: RotationReport) => void } = {}): Promise<RotationReport> {
    const report: RotationReport = { scanned: 0, updated: 0, values: 0, failed: [] };
    let after: string | undefined;
    for (;;) {
      const ids = await this.deployments.idsAfter(after, options.batchSize ?? 100);
      if (!ids.length) return report;
      for (const id of ids) {
        report.scanned += 1;
        try {
          await this.db.transaction(async (m) => {
            const d = await this.deployments.findByIdForUpdate(id, m);
            if (!d) return;
            const { doc, resealed } = resealAll(d.userValues, this.box);
            if (!resealed) return;
            await this.deployments.update(id, { userValues: doc as Record<string, unknown> }, m);
            report.updated += 1;
            report.values += resealed;
          });
        } catch (err) {
          report.failed.push({ deploymentId: id, reason: (err as Error).message.split('\n')[0] });
        }
      }
      after = ids[ids.length - 1];
      options.onProgress?.(report);
    }
  }
}
