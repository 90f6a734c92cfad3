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

/**
 * The deployer CLI. Each command lives in ./commands/<name>.ts, exports `register(program)`,
 * parses flags (with DEPLOYER_* env fallbacks) and calls one core function.
 */
export function createProgram(): Command {
  const program = new Command('deployer')
    .description('Build, run, push and wire wasmesh proxy-wasm filters into Envoy and Istio sidecars')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(add --help for usage and examples)');
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
    process.stderr.write(`deployer: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
