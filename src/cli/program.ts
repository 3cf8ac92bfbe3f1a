/**
 * The `paso` program: its global options, its commands (one module per group) and how a run ends: the
 * exit code of the command, or of the error that stopped it (see exit-codes.ts).
 */
import { Command, CommanderError } from 'commander';
import { authCommands } from './commands/auth.js';
import { completionCommands } from './commands/completion.js';
import { decisionCommands } from './commands/decisions.js';
import { executionCommands } from './commands/executions.js';
import { pipelineCommands } from './commands/pipelines.js';
import { locksCommand } from './commands/locks.js';
import { waitingCommand } from './commands/waiting.js';
import { CliError } from './errors.js';
import { ExitCode, exitCodeHelp } from './exit-codes.js';
import { Output } from './output.js';
import { Runner } from './runner.js';

const ENVIRONMENT_HELP = `Environment:
  PASO_URL    the gateway (default http://127.0.0.1:8080, or what \`paso login\` stored)
  PASO_TOKEN  the bearer token (or what \`paso login\` stored)
  NO_COLOR    no colours (neither are there when stdout is not a terminal)`;

/** The program, ready to parse; `runner.exitCode` holds the code of the command that ran. */
export function buildProgram(runner: Runner): Command {
  const program = new Command('paso')
    .description('Drive Paso release pipelines from a terminal or a CI job.')
    .version('0.1.0')
    .option('--url <url>', 'the gateway (overrides PASO_URL and the credentials file)')
    .option('--token <token>', 'the bearer token (overrides PASO_TOKEN and the credentials file)')
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--no-color', 'no colours')
    .showHelpAfterError('(paso --help lists the commands and options)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${exitCodeHelp()}`)
    // Usage errors become a CommanderError for run() to map, instead of an exit from deep inside commander.
    .exitOverride();
  authCommands(program, runner);
  pipelineCommands(program, runner);
  executionCommands(program, runner);
  decisionCommands(program, runner);
  waitingCommand(program, runner);
  locksCommand(program, runner);
  completionCommands(program, runner);
  return program;
}

/** Runs `paso` with these arguments (`process.argv`); resolves to the exit code. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const runner = new Runner(env);
  const program = buildProgram(runner);
  try {
    await program.parseAsync(argv);
    return runner.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version "fail" with code 0; commander already printed the message.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const out = new Output({ json: false, color: Output.wantsColour(true, env, process.stderr) });
    if (err instanceof CliError) {
      out.error(err);
      return err.exitCode;
    }
    out.error(new CliError(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    return ExitCode.Error;
  }
}
