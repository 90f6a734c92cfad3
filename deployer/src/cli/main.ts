#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { register as registerBuild } from './commands/build.js';
import { register as registerRun } from './commands/run.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerPush } from './commands/push.js';
import { register as registerRender } from './commands/render.js';
import { register as registerTranslate } from './commands/translate.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerRollback } from './commands/rollback.js';
import { register as registerUndeploy } from './commands/undeploy.js';
import { register as registerControlPlane } from './commands/control-plane.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerLocal } from './commands/local.js';
import { packageVersion, register as registerVersion } from './commands/version.js';
import { register as registerCompletion } from './commands/completion.js';
import { palette } from './output.js';

const TOP_LEVEL_EXAMPLES = `
Examples:
  # Try Istio policies locally: a sidecar in front of your app, the filters built from your YAML
  $ deployer run -c sidecar.yaml --istio policies/ -n shop -l app=reviews
  $ deployer translate -f authz.yaml                 # the rbac filter config Istio's policy becomes
  $ deployer inspect build/filters/jwt-auth.wasm     # would Envoy load it?
  $ deployer validate envoy-configs/envoy.yaml       # Envoy/Istio config against Envoy's protos and the CRDs

  # Ship to a mesh: push the module, render or apply its WasmPlugin/EnvoyFilter
  $ deployer push build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 \\
      --istio authz.yaml -n shop -l app=reviews --dry-run=client
  $ deployer render build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 --out gitops/
  $ deployer status -n shop

  $ deployer version                                 # filters shipped, with their digests
  $ source <(deployer completion bash)

Environment: every flag has a DEPLOYER_* fallback (see each command's --help); NO_COLOR disables colour.
`;

/**
 * The deployer CLI. Each command lives in ./commands/<name>.ts, exports `register(program)`,
 * parses flags (with DEPLOYER_* env fallbacks) and calls one core function.
 */
export function createProgram(): Command {
  const program = new Command('deployer')
    .description('Build, run, push and wire wasmesh proxy-wasm filters into Envoy and Istio sidecars')
    .version(packageVersion(), '-V, --version', 'print the version (deployer version: also the filters\' digests)')
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText('after', TOP_LEVEL_EXAMPLES);
  registerBuild(program);
  registerRun(program);
  registerDemo(program);
  registerInspect(program);
  registerPush(program);
  registerRender(program);
  registerTranslate(program);
  registerStatus(program);
  registerRollback(program);
  registerUndeploy(program);
  registerControlPlane(program);
  registerVersion(program);
  registerCompletion(program);
  registerValidate(program);
  registerLocal(program);
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`${palette(process.stderr).red('deployer:')} ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
