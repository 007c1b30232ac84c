// Local stack CLI: `tsx scripts/stack/cli.ts up|down|status|tools` (npm run stack:*).
import { ComponentError, ensureStack, stackStatus, stopStack } from './index';
import { ensureTools, printToolSummary, table } from './tools';

async function main(command: string | undefined): Promise<number> {
  const started = Date.now();
  switch (command) {
    case 'up': {
      await ensureStack({ verbose: true });
      console.log(`stack is up (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      return 0;
    }
    case 'down':
      await stopStack();
      return 0;
    case 'status': {
      const statuses = await stackStatus();
      console.log(table(['component', 'health', 'detail'], statuses.map((s) => [s.name, s.ok ? 'healthy' : 'DOWN', s.detail])));
      return statuses.every((s) => s.ok) ? 0 : 1;
    }
    case 'tools': {
      printToolSummary(await ensureTools());
      return 0;
    }
    default:
      console.error('usage: tsx scripts/stack/cli.ts up|down|status|tools');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ComponentError) {
      console.error(`\nstack: ${err.component} failed\n${err.message}`);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
