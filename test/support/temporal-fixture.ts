import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Polls `check` every 100 ms until it holds; throws when it still does not after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

/**
 * The local stack's Temporal for a suite that runs its own workers: a client and a native
 * connection, opened in beforeAll and closed in afterAll of the calling describe block.
 */
export function temporalForSuite(): { client: () => Client; native: () => NativeConnection } {
  let connection: Connection | undefined;
  let client: Client | undefined;
  let native: NativeConnection | undefined;
  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    native = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  });
  afterAll(async () => {
    await native?.close();
    await connection?.close();
  });
  return { client: () => client!, native: () => native! };
}
