/**
 * Runs one `deployer` command in-process through commander, capturing what it writes and its exit
 * code (spawning the full CLI would also load the AssemblyScript compiler that `build` imports,
 * which is slow on shared machines). Used by the command tests of inspect, validate, local, push and the scoped-policy CLI tests.
 */
import { Command } from 'commander';
import { vi } from 'vitest';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCommandOptions {
  /**
   * Handle thrown errors as deployer/src/cli/main.ts does (`deployer: <message>` on stderr, exit
   * 1) instead of letting them reach the test.
   */
  readonly asMain?: boolean;
}

export async function runCommand(register: (program: Command) => void, args: readonly string[], options: RunCommandOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  process.exitCode = 0;
  const program = new Command('deployer').exitOverride();
  register(program);
  try {
    await program.parseAsync(['node', 'deployer', ...args]);
  } catch (error) {
    if (!options.asMain) throw error;
    stderr += `deployer: ${(error as Error).message}\n`;
    process.exitCode = 1;
  } finally {
    vi.restoreAllMocks();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}
