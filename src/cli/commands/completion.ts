/**
 * `paso completion bash|zsh`: a completion script generated from the commands themselves, so it never
 * lists an option that is gone. Pipeline names are completed by asking the gateway (`paso _pipelines`).
 */
import { Argument, type Command } from 'commander';
import type { PipelineSummary } from '../api-types.js';
import type { Runner } from '../runner.js';

/** Commands whose first argument is a pipeline's name. */
const PIPELINE_COMMANDS = ['state', 'trigger', 'transition', 'executions'];

export function completionCommands(program: Command, runner: Runner): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(paso completion bash), or zsh')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh']))
    .action(
      runner.action(async (ctx, [shell]) => {
        const commands = program.createHelp().visibleCommands(program);
        await ctx.out.writeRaw(shell === 'zsh' ? zshScript(program, commands) : bashScript(program, commands));
      }),
    );

  program.command('_pipelines', { hidden: true }).action(
    runner.action(async (ctx) => {
      const pipelines = await (await ctx.client()).get<PipelineSummary[]>('/pipelines');
      for (const p of pipelines) ctx.out.line(p.name);
    }),
  );
}

/** A command's flags, short and long, as typed. */
function flags(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
}

/** The words an argument may take, by command: choices declared on it. */
function choices(cmd: Command): string[] {
  return cmd.registeredArguments.flatMap((a) => a.argChoices ?? []);
}

function bashScript(program: Command, commands: Command[]): string {
  const cases = commands
    .map((c) => `    ${c.name()}) opts="${flags(c).join(' ')}"; words="${choices(c).join(' ')}" ;;`)
    .join('\n');
  return `# paso completion for bash. Load it with: source <(paso completion bash)
_paso() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="\${COMP_WORDS[1]}"
  local globals="${flags(program).join(' ')} --help" opts="" words=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name()).join(' ')} $globals" -- "$cur")); return
  fi
  case "$prev" in
    -f|--file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts $globals" -- "$cur")); return; fi
  case "$cmd" in
    ${PIPELINE_COMMANDS.join('|')}) [[ $COMP_CWORD -eq 2 ]] && words="$(paso _pipelines 2>/dev/null)" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _paso paso
`;
}

function zshScript(program: Command, commands: Command[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const described = commands.map((c) => `    ${quote(`${c.name()}:${c.description().replace(/:/g, '\\:')}`)}`);
  const cases = commands
    .map((c) => `    ${c.name()}) opts=(${flags(c).join(' ')}); vals=(${choices(c).join(' ')}) ;;`)
    .join('\n');
  return `#compdef paso
# paso completion for zsh. Load it with: source <(paso completion zsh), or save it as _paso in your $fpath.
_paso() {
  local -a commands opts vals globals
  commands=(
${described.join('\n')}
  )
  globals=(${flags(program).join(' ')} --help)
  if (( CURRENT == 2 )); then _describe -t commands 'paso command' commands; return; fi
  case $words[CURRENT-1] in
    -f|--file) _files; return ;;
  esac
  local cmd=$words[2]
  case $cmd in
${cases}
  esac
  if [[ $PREFIX == -* ]]; then compadd -- $opts $globals; return; fi
  case $cmd in
    ${PIPELINE_COMMANDS.join('|')}) (( CURRENT == 3 )) && vals=(\${(f)"$(paso _pipelines 2>/dev/null)"}) ;;
  esac
  compadd -- $vals
}
if [[ $funcstack[1] == _paso ]]; then _paso "$@"; else compdef _paso paso; fi
`;
}
