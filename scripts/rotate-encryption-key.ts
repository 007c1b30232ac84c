import 'reflect-metadata';
import { loadConfig } from '../libs/config/src';
import { RotationReport, SecretBox, SecretRotationService } from '../libs/domain/src';
import { createDataSource, DeploymentsRepository, TemplatesRepository } from '../libs/persistence/src';

/**
 * Re-seals every deployment's secret values, and every template's secret default values, with
 * CAELUS_ENCRYPTION_KEY, bound to their row and path; the old key must be in
 * CAELUS_PREVIOUS_ENCRYPTION_KEYS. Also binds envelopes sealed before binding existed (v1).
 * Idempotent. Prints counts and row ids, never values.
 * See docs/OPERATIONS.md ("Rotating the encryption key").
 */
export async function rotateEncryptionKey(log: (line: string) => void = console.log, databaseUrl?: string): Promise<RotationReport & { templates: RotationReport }> {
  const config = loadConfig();
  const box = new SecretBox(config.encryptionKey, config.previousEncryptionKeys);
  const db = await createDataSource(databaseUrl ?? config.databaseUrl).initialize();
  try {
    log(`re-sealing with key ${box.currentKeyId} (${config.previousEncryptionKeys.length} previous key(s) configured)`);
    const service = new SecretRotationService(db, new DeploymentsRepository(db), box, new TemplatesRepository(db));
    const report = await service.resealDeployments({ onProgress: (r) => log(`scanned ${r.scanned}, re-sealed ${r.updated}`) });
    log(`done: ${report.scanned} deployment(s) scanned, ${report.updated} updated, ${report.values} value(s) re-sealed, ${report.failed.length} failed`);
    for (const f of report.failed) log(`  ${f.deploymentId}: ${f.reason}`);
    const templates = await service.resealTemplates();
    log(`done: ${templates.scanned} template(s) scanned, ${templates.updated} updated, ${templates.values} default value(s) re-sealed, ${templates.failed.length} failed`);
    for (const f of templates.failed) log(`  template ${f.deploymentId}: ${f.reason}`);
    return { ...report, templates };
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  rotateEncryptionKey()
    .then((report) => process.exit(report.failed.length || report.templates.failed.length ? 1 : 0))
    .catch((err) => {
      console.error(`rotation failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    });
}
