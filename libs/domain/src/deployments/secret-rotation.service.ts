import { DataSource, EntityManager } from 'typeorm';
import { DeploymentsRepository, TemplatesRepository } from '../../../persistence/src';
import { deploymentOwner, resealAll, SecretBox, SecretOwner, templateOwner } from '../values';

export interface RotationReport {
  /** Rows looked at (deleted ones too: their rows keep sealed values). */
  scanned: number;
  /** Rows whose values were re-sealed with the current key. */
  updated: number;
  /** Sealed values re-sealed in all. */
  values: number;
  /** Rows whose values no configured key opens, or that do not open where they are (ids only, never values). */
  failed: { deploymentId: string; reason: string }[];
}

interface Rows {
  idsAfter(after: string | undefined, limit: number): Promise<string[]>;
  /** The row's sealed document, read under its row lock. */
  lockedDoc(id: string, m: EntityManager): Promise<Record<string, unknown> | undefined>;
  write(id: string, doc: Record<string, unknown>, m: EntityManager): Promise<void>;
  owner(id: string): SecretOwner;
}

/**
 * The second half of an encryption key rotation: once every process seals with the new key and
 * still opens with the old one, re-seal what the old key sealed. It also binds envelopes sealed
 * before binding existed (v1) to their row and path. Each row is re-sealed in its own
 * transaction under the row lock that API writes take too, so a concurrent change is never lost.
 * Generations do not move: the values are the same, no workflow is woken.
 */
export class SecretRotationService {
  constructor(
    private readonly db: DataSource,
    private readonly deployments: DeploymentsRepository,
    private readonly box: SecretBox,
    private readonly templates?: TemplatesRepository,
  ) {}

  resealDeployments(options: { batchSize?: number; onProgress?: (report: RotationReport) => void } = {}): Promise<RotationReport> {
    const { deployments } = this;
    return this.reseal(
      {
        idsAfter: (after, limit) => deployments.idsAfter(after, limit),
        lockedDoc: async (id, m) => (await deployments.findByIdForUpdate(id, m))?.userValues,
        write: async (id, userValues, m) => void (await deployments.update(id, { userValues }, m)),
        owner: deploymentOwner,
      },
      options,
    );
  }

  /** Template default values the schema marks secret (sealed bound to the template). */
  resealTemplates(options: { batchSize?: number; onProgress?: (report: RotationReport) => void } = {}): Promise<RotationReport> {
    const templates = this.templates;
    if (!templates) throw new Error('SecretRotationService was built without the templates repository');
    return this.reseal(
      {
        idsAfter: (after, limit) => templates.idsAfter(after, limit),
        lockedDoc: async (id, m) => (await templates.findByIdForUpdate(id, m))?.defaultValues,
        write: (id, doc, m) => templates.updateDefaultValues(id, doc, m),
        owner: templateOwner,
      },
      options,
    );
  }

  private async reseal(rows: Rows, options: { batchSize?: number; onProgress?: (report: RotationReport) => void }): Promise<RotationReport> {
    const report: RotationReport = { scanned: 0, updated: 0, values: 0, failed: [] };
    let after: string | undefined;
    for (;;) {
      const ids = await rows.idsAfter(after, options.batchSize ?? 100);
      if (!ids.length) return report;
      for (const id of ids) {
        report.scanned += 1;
        try {
          await this.db.transaction(async (m) => {
            const doc = await rows.lockedDoc(id, m);
            if (!doc) return;
            const { doc: out, resealed } = resealAll(doc, this.box, rows.owner(id));
            if (!resealed) return;
            await rows.write(id, out as Record<string, unknown>, m);
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
