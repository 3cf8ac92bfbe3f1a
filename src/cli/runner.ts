/**
 * What every command gets: the output, the gateway client (built from flags, environment or the credentials
 * file only when a command needs it) and the exit code it ends with.
 */
import type { Command } from 'commander';
import { PasoClient } from './client.js';
import { resolveCredentials } from './credentials.js';
import { ExitCode } from './exit-codes.js';
import { Output } from './output.js';

/** The options every command takes (`paso --help` lists them). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  color: boolean;
}

export interface Context {
  out: Output;
  globals: GlobalOptions;
  env: NodeJS.ProcessEnv;
  /** The client of the gateway the flags, environment or credentials file name. */
  client(): Promise<PasoClient>;
}

/** A command's body: its positional arguments and options in, an exit code (default 0) out. */
export type Action<O> = (ctx: Context, args: string[], options: O) => Promise<ExitCode | void>;

export class Runner {
  exitCode: ExitCode = ExitCode.Ok;

  constructor(readonly env: NodeJS.ProcessEnv) {}

  /** Adapts an `Action` to commander's `.action()`, which passes the arguments, the options and the command. */
  action<O>(fn: Action<O>): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      const ctx: Context = {
        out: new Output({ json: globals.json === true, color: Output.wantsColour(globals.color, this.env) }),
        globals,
        env: this.env,
        client: async () => new PasoClient(await resolveCredentials({ flags: globals, env: this.env })),
      };
      this.exitCode = (await fn(ctx, command.args, command.opts() as O)) ?? ExitCode.Ok;
    };
  }
}
