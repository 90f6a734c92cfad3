import { Argument, type Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.js';

export function register(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash | zsh | fish').choices(SHELLS))
    .addHelpText('after', `
Examples:
  $ source <(deployer completion bash)                        # this shell; add it to ~/.bashrc to keep it
  $ deployer completion zsh > "\${fpath[1]}/_deployer"          # zsh, then start a new shell
  $ deployer completion fish > ~/.config/fish/completions/deployer.fish`)
    .action((shell: Shell) => {
      process.stdout.write(completionScript(program, shell));
    });
}
