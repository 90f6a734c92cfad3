import type { Command } from 'commander';
import { runDemo } from '../../demo/run-demo.js';
import { filtersRoot } from '../project-root.js';

interface DemoFlags {
  readonly keep: boolean;
  readonly listen: string;
  readonly admin: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the demo: a demo upstream behind the local sidecar with the example chain, a few requests, what each filter did')
    .option('--keep', 'keep serving after the requests and print the URLs (Ctrl-C to stop)', false)
    .option('--listen <host:port>', 'sidecar listener (port 0: any free port)', process.env.DEPLOYER_DEMO_LISTEN ?? '127.0.0.1:0')
    .option('--admin <host:port>', 'admin listener', process.env.DEPLOYER_DEMO_ADMIN ?? '127.0.0.1:0')
    .addHelpText('after', `
Examples:
  $ npm run demo
  $ deployer demo --keep --listen 127.0.0.1:15006 --admin 127.0.0.1:15000`)
    .action(async (flags: DemoFlags) => {
      const result = await runDemo({ root: filtersRoot(), keep: flags.keep, listen: flags.listen, admin: flags.admin, out: (t) => process.stdout.write(t) });
      if (flags.keep) {
        process.stdout.write(`\nserving (Ctrl-C to stop):\n  sidecar   ${result.sidecar.url}\n  admin     ${result.sidecar.adminUrl}/stats/prometheus  ${result.sidecar.adminUrl}/config_dump  ${result.sidecar.adminUrl}/ready\n  upstream  ${result.upstream.url}\n`);
        if (result.filters.includes('jwt-auth')) {
          // A token valid for an hour, so the chain can be tried by hand.
          const token = result.keys.signToken('you', { exp: Math.floor(Date.now() / 1000) + 3600 });
          process.stdout.write(`\ntry:\n  curl -i -H 'authorization: Bearer ${token}' ${result.sidecar.url}/products/1\n  curl -i ${result.sidecar.url}/products/1   # 401: no token\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }
      await result.close();
      if (!result.ok) process.exitCode = 1;
    });
}
