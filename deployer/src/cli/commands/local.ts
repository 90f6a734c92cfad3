import type { Command } from 'commander';
import { LOCAL_STAGES } from '../../local/local-stages.js';
import { loadLocalKeys } from '../../local/local-keys.js';
import { runLocalTest } from '../../local/local-test.js';
import { startLocalFallback } from '../../local/fallback.js';
import { localDown, localLogs, localMetricsFromCompose, localUp, NO_ENGINE_EXIT, NoEngineError, type LocalOptions } from '../../local/local.js';
import { filtersRoot } from '../project-root.js';
import { closeOnSignal } from '../until-signal.js';

interface CommonFlags { readonly projectName: string }
interface UpFlags extends CommonFlags { readonly xds: boolean; readonly fallback: boolean; readonly listen?: string; readonly admin?: string }
interface TestFlags extends CommonFlags { readonly target?: string; readonly adminUrl?: string }

const EXIT_CODES = `
Exit codes:
  0  done
  1  the stack or a test failed
  ${NO_ENGINE_EXIT}  no Docker engine answers here (one line says so, with the equivalent
     \`deployer run\`; \`deployer local up --fallback\` runs it on wasmesh's own host)`;

const out = (text: string) => process.stdout.write(text);

function options(flags: CommonFlags & { readonly xds?: boolean }): LocalOptions {
  return { root: filtersRoot(), projectName: flags.projectName, xds: flags.xds ?? false, out };
}

/** The no-engine case is one line on stderr and its own exit code, never a stack trace. */
async function guarded(action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof NoEngineError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}

export function register(program: Command): void {
  const local = program
    .command('local')
    .description('The suite inside a real Envoy with docker compose (envoy-configs/), or on wasmesh\'s own host with --fallback')
    .addHelpText('after', EXIT_CODES);
  const projectName = (cmd: Command) => cmd.option('-p, --project-name <name>', 'compose project name (env DEPLOYER_LOCAL_PROJECT)', process.env.DEPLOYER_LOCAL_PROJECT ?? 'wasmesh');

  projectName(local.command('up')
    .description('Build stale filters, bring the compose stack up and wait for Envoy\'s /ready')
    .option('--xds', 'Envoy boots from envoy-xds.yaml and takes everything from the control plane (profile xds) (env DEPLOYER_LOCAL_XDS=1)', process.env.DEPLOYER_LOCAL_XDS === '1')
    .option('--fallback', 'no Docker: run envoy-configs/sidecar.yaml on wasmesh\'s own host, with the app and JWKS server in-process (env DEPLOYER_LOCAL_FALLBACK=1)', process.env.DEPLOYER_LOCAL_FALLBACK === '1')
    .option('--listen <host:port>', 'with --fallback: the inbound listener (default sidecar.yaml\'s 0.0.0.0:15006) (env DEPLOYER_LOCAL_LISTEN)', process.env.DEPLOYER_LOCAL_LISTEN)
    .option('--admin <host:port>', 'with --fallback: the admin listener (default 127.0.0.1:15000) (env DEPLOYER_LOCAL_ADMIN)', process.env.DEPLOYER_LOCAL_ADMIN)
    .addHelpText('after', `
Examples:
  $ deployer local up
  $ deployer local up --xds --project-name wasmesh-xds
  $ deployer local up --fallback                   # no Docker engine: the same chain on our host
${EXIT_CODES}`))
    .action(async (flags: UpFlags) => {
      if (flags.fallback) {
        const fallback = await startLocalFallback({ root: filtersRoot(), listen: flags.listen, admin: flags.admin, accessLog: (line) => process.stdout.write(`${line}\n`) });
        out(`deployer local: fallback on wasmesh's own host (not Envoy): ${fallback.url} admin ${fallback.adminUrl}\n`);
        out(`next: deployer local test --target ${fallback.url} --admin-url ${fallback.adminUrl}   (Ctrl-C to stop)\n`);
        await closeOnSignal(() => fallback.close());
        return;
      }
      await guarded(() => localUp(options(flags)));
    });

  projectName(local.command('test')
    .description('Send the demo\'s requests to the running stack; print what each filter did and the suite\'s metrics')
    .option('--target <url>', 'the inbound listener to test (env DEPLOYER_LOCAL_TARGET)', process.env.DEPLOYER_LOCAL_TARGET)
    .option('--admin-url <url>', 'admin base URL for /stats/prometheus; without it, read from inside the compose Envoy (env DEPLOYER_LOCAL_ADMIN_URL)', process.env.DEPLOYER_LOCAL_ADMIN_URL)
    .addHelpText('after', `
Examples:
  $ deployer local test
  $ deployer local test --target http://127.0.0.1:15006 --admin-url http://127.0.0.1:15000   # against --fallback
${EXIT_CODES}`))
    .action(async (flags: TestFlags) => {
      await guarded(async () => {
        const opts = options(flags);
        const adminUrl = flags.adminUrl;
        const metrics = adminUrl !== undefined
          ? async () => (await fetch(`${adminUrl}/stats/prometheus`)).text()
          : () => localMetricsFromCompose(opts);
        // Against compose, fail fast (exit 3) before sending anything when no engine answers.
        if (adminUrl === undefined) await metrics();
        const result = await runLocalTest({ target: flags.target ?? 'http://127.0.0.1:15006', stages: LOCAL_STAGES, keys: loadLocalKeys(opts.root), metrics, out });
        if (!result.ok) process.exitCode = 1;
      });
    });

  projectName(local.command('down').description('Remove the compose stack (both variants)').addHelpText('after', EXIT_CODES))
    .action(async (flags: CommonFlags) => guarded(() => localDown(options(flags))));

  projectName(local.command('logs').description('Follow Envoy\'s log').addHelpText('after', EXIT_CODES))
    .action(async (flags: CommonFlags) => guarded(async () => {
      const code = await localLogs(options(flags));
      if (code !== 0) process.exitCode = 1;
    }));
}
