import type { Command, Option } from 'commander';

/**
 * Shell completion scripts for bash, zsh and fish, generated from the commander program itself
 * (commands, flags, their fixed choices), so a new flag completes without touching this file.
 */
export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

interface FlagSpec {
  readonly long?: string;
  readonly short?: string;
  readonly takesValue: boolean;
  readonly choices: readonly string[];
  readonly description: string;
}

interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  /** Positional arguments complete as file names (modules, YAML, folders), except for these. */
  readonly argChoices: readonly string[];
}

const firstSentence = (text: string): string => text.split(/(?<=[.:;])\s|\n/)[0]!.replace(/[.:;]$/, '');

function flagSpec(option: Option): FlagSpec {
  return {
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    takesValue: option.required || option.optional,
    choices: option.argChoices ?? [],
    description: firstSentence(option.description),
  };
}

function commandSpecs(program: Command): CommandSpec[] {
  return program.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((command) => ({
    name: command.name(),
    description: firstSentence(command.description()),
    flags: [...command.options.filter((o) => !o.hidden).map(flagSpec), { long: '--help', short: '-h', takesValue: false, choices: [], description: 'show help' }],
    argChoices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
  }));
}

const words = (list: readonly (string | undefined)[]): string => list.filter((w): w is string => !!w).join(' ');
const singleQuoted = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function completionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const commands = commandSpecs(program);
  switch (shell) {
    case 'bash': return bashScript(name, commands);
    case 'zsh': return zshScript(name, commands);
    case 'fish': return fishScript(name, commands);
  }
}

function bashScript(name: string, commands: readonly CommandSpec[]): string {
  const fn = `_${name.replace(/\W/g, '_')}_completion`;
  const perCommand = commands.map((c) => {
    const valueFlags = c.flags.filter((f) => f.takesValue);
    const choiceCases = valueFlags.filter((f) => f.choices.length > 0)
      .map((f) => `        ${words([f.long, f.short]).replace(' ', '|')}) COMPREPLY=( $(compgen -W ${singleQuoted(f.choices.join(' '))} -- "$cur") ); return ;;`);
    return [
      `    ${c.name})`,
      `      opts=${singleQuoted(words(c.flags.flatMap((f) => [f.long, f.short])))}`,
      `      args=${singleQuoted(c.argChoices.join(' '))}`,
      ...(choiceCases.length ? ['      case "$prev" in', ...choiceCases, '      esac'] : []),
      '      ;;',
    ].join('\n');
  }).join('\n');
  return `# ${name} completion for bash: source <(${name} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" opts="" args="" i
  for (( i = 1; i < COMP_CWORD; i++ )); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=( $(compgen -W ${singleQuoted(words(commands.map((c) => c.name)) + ' --help --version')} -- "$cur") )
    return
  fi
  case "$cmd" in
${perCommand}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ -n "$args" ]; then
    COMPREPLY=( $(compgen -W "$args" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -o bashdefault -F ${fn} ${name}
`;
}

const zshEscape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/[[\]:]/g, (c) => `\\${c}`);

function zshScript(name: string, commands: readonly CommandSpec[]): string {
  const cases = commands.map((c) => {
    const specs = c.flags.flatMap((f) => {
      const value = f.takesValue ? (f.choices.length ? `:value:(${f.choices.join(' ')})` : ':value:_files') : '';
      const help = `[${zshEscape(f.description)}]`;
      return [f.long, f.short].filter((x): x is string => !!x).map((flag) => `'${flag}${help}${value}'`);
    });
    const positional = c.argChoices.length ? `'*:argument:(${c.argChoices.join(' ')})'` : `'*:file:_files'`;
    return `    (${c.name})\n      _arguments -s ${[...specs, positional].join(' \\\n        ')}\n      ;;`;
  }).join('\n');
  return `#compdef ${name}
# ${name} completion for zsh: source <(${name} completion zsh), or save as _${name} on $fpath
_${name}() {
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${zshEscape(c.description)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words; (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _${name} "$@"; else compdef _${name} ${name}; fi
`;
}

function fishScript(name: string, commands: readonly CommandSpec[]): string {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [`# ${name} completion for fish: ${name} completion fish | source`, `complete -c ${name} -f`];
  for (const c of commands) lines.push(`complete -c ${name} -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    if (c.argChoices.length) lines.push(`complete -c ${name} ${when} -a ${quote(c.argChoices.join(' '))}`);
    else lines.push(`complete -c ${name} ${when} -F`);
    for (const f of c.flags) {
      const parts = [`complete -c ${name} ${when}`];
      if (f.long) parts.push(`-l ${f.long.replace(/^--/, '')}`);
      if (f.short) parts.push(`-s ${f.short.replace(/^-/, '')}`);
      if (f.takesValue) parts.push(f.choices.length ? `-x -a ${quote(f.choices.join(' '))}` : '-r -F');
      parts.push(`-d ${quote(f.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return lines.join('\n') + '\n';
}
