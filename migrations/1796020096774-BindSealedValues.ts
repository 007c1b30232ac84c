import { MigrationInterface, QueryRunner } from 'typeorm';
import { loadEncryptionKeys } from '../libs/config/src/config';
import { isPlainObject } from '../libs/domain/src/values/json';
import { SealedValue, SecretBox } from '../libs/domain/src/values/secret-box';
import { deploymentOwner, openAllSealed, sealSecrets, secretLocations, SecretOwner, templateOwner, toPointer } from '../libs/domain/src/values/secret-paths';

const BATCH = 200;
const SEALED = '%"$caelusEncrypted"%';
const SECRET_MARK = '%"x-caelus-secret"%';

/**
 * Binds every sealed value to its row and JSON path (envelope v1 → v2: AES-GCM additional data),
 * and seals the template default values the template's schema marks secret (they were stored in
 * clear). Data only, no DDL.
 *
 * Why here, with the key, rather than a long transition in which v1 still opens: as long as an
 * unbound envelope opens anywhere, one copied into another row with SQL opens there too, which
 * is what binding is for. So the serving code opens v2 only, and this migration (it runs before
 * the new pods, with the same environment) re-seals with the configured keys. An envelope that no
 * configured key opens is left as it is (it did not open before either) and counted; so is one
 * an old pod seals in the rollout window: scripts/rotate-encryption-key.ts binds those later.
 * down() restores the old form: v1 envelopes, template defaults in clear.
 */
export class BindSealedValues1796020096774 implements MigrationInterface {
  name = 'BindSealedValues1796020096774';

  async up(q: QueryRunner): Promise<void> {
    const box = lazyBox();
    await eachRow(q, 'deployments', 'user_values', ['user_values', SEALED], (id, doc) =>
      mapSealed(doc, (sealed, path) => (box().needsReseal(sealed) ? rebind(box(), sealed, deploymentOwner(id), path) : sealed)),
    );
    await eachRow(q, 'template_versions', 'default_values', ['values_schema', SECRET_MARK], (id, doc, schema) => {
      const locations = secretLocations(schema, doc);
      return locations.length ? sealSecrets(doc, locations, box(), templateOwner(id)) : doc;
    });
    report('up');
  }

  async down(q: QueryRunner): Promise<void> {
    const box = lazyBox();
    await eachRow(q, 'deployments', 'user_values', ['user_values', SEALED], (id, doc) =>
      mapSealed(doc, (sealed, path) => {
        if (!sealed.$caelusEncrypted.startsWith('v2.')) return sealed;
        return attempt(sealed, () => box().sealUnbound(box().open(sealed, { ...deploymentOwner(id), path: toPointer(path) })));
      }),
    );
    await eachRow(q, 'template_versions', 'default_values', ['default_values', SEALED], (id, doc) => attempt(doc, () => openAllSealed(doc, box(), templateOwner(id)) as Record<string, unknown>));
    report('down');
  }
}

let skipped = 0;

function report(direction: string): void {
  if (skipped) console.warn(`BindSealedValues ${direction}: ${skipped} sealed value(s) no configured key opens were left as they are`);
  skipped = 0;
}

/** The keys are read only when there is something to seal or open: a fresh database needs none. */
function lazyBox(): () => SecretBox {
  let box: SecretBox | undefined;
  return () => {
    if (!box) {
      const { encryptionKey, previousEncryptionKeys } = loadEncryptionKeys();
      box = new SecretBox(encryptionKey, previousEncryptionKeys);
    }
    return box;
  };
}

function attempt<T>(fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch {
    skipped += 1;
    return fallback;
  }
}

function rebind(box: SecretBox, sealed: SealedValue, owner: SecretOwner, path: string[]): SealedValue {
  const binding = { ...owner, path: toPointer(path) };
  return attempt(sealed, () => box.seal(box.open(sealed, binding, { allowUnbound: true }), binding));
}

async function mapSealed(doc: unknown, fn: (sealed: SealedValue, path: string[]) => unknown, path: string[] = []): Promise<unknown> {
  if (SecretBox.isSealed(doc)) return fn(doc, path);
  if (Array.isArray(doc)) return Promise.all(doc.map((v, i) => mapSealed(v, fn, [...path, String(i)])));
  if (!isPlainObject(doc)) return doc;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) Object.defineProperty(out, k, { value: await mapSealed(v, fn, [...path, k]), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Rewrites one jsonb column row by row (keyset pages by id), writing only rows that changed. */
async function eachRow(
  q: QueryRunner,
  table: 'deployments' | 'template_versions',
  column: 'user_values' | 'default_values',
  /** Only rows whose `column`, as text, is LIKE `pattern`. */
  [filterColumn, pattern]: [string, string],
  fn: (id: string, doc: Record<string, unknown>, schema: unknown) => unknown,
): Promise<void> {
  const schemaColumn = table === 'template_versions' ? 'values_schema' : 'NULL';
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = (await q.query(`SELECT id, ${column} AS doc, ${schemaColumn} AS schema FROM ${table} WHERE id > $1 AND ${filterColumn}::text LIKE $2 ORDER BY id LIMIT ${BATCH}`, [
      after,
      pattern,
    ])) as { id: string; doc: Record<string, unknown>; schema: unknown }[];
    if (!rows.length) return;
    for (const row of rows) {
      const out = await fn(row.id, row.doc, row.schema);
      if (JSON.stringify(out) !== JSON.stringify(row.doc)) await q.query(`UPDATE ${table} SET ${column} = $2::jsonb WHERE id = $1`, [row.id, JSON.stringify(out)]);
    }
    after = rows[rows.length - 1].id;
  }
}
