// Local stack CLI: `tsx scripts/stack/cli.ts up|down|status|reset|tools [--only a,b] [--with-flux] [--temporal dev|server]` (npm run stack:*).
import { cliProfiles, COMPONENT_NAMES, ComponentError, ensureStack, resetStack, stackStatus, stopStack } from './index';
import { ensureTools, printToolSummary, table } from './tools';

const USAGE = `usage: tsx scripts/stack/cli.ts up|down|status|reset|tools [--only ${COMPONENT_NAMES.join(',')}] [--with-flux] [--temporal dev|server] [--profile-only (tools: only the profiles' own)]`;

/** `--only postgres,temporal` (or `--only=…`): the components a command acts on; undefined means all. */
function parseOnly(args: string[]): string[] | undefined {
  const i = args.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i === -1) return undefined;
  const value = args[i].includes('=') ? args[i].slice('--only='.length) : args[i + 1];
  if (!value) throw new Error(`--only needs a comma-separated list of components\n${USAGE}`);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  const started = Date.now();
  const only = parseOnly(args);
  let profiles: string[];
  try {
    profiles = cliProfiles(args);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'up': {
      await ensureStack({ verbose: true, only, profiles });
      console.log(`stack is up (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      return 0;
    }
    case 'down':
      await stopStack(console.log, only);
      return 0;
    case 'reset':
      await resetStack(console.log, only);
      return 0;
    case 'status': {
      const statuses = await stackStatus(only, args.includes('--with-flux') || args.includes('--temporal') ? profiles : undefined);
      console.log(
        table(
          ['component', 'health', 'detail'],
          statuses.map((s) => [s.name, s.ok ? 'healthy' : 'DOWN', s.detail]),
        ),
      );
      return statuses.every((s) => s.ok) ? 0 : 1;
    }
    case 'tools': {
      printToolSummary(await ensureTools(console.log, profiles, { profileOnly: args.includes('--profile-only') }));
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
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
