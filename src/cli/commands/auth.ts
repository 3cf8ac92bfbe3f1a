/** `login` and `logout`: the gateway's URL and a token kept in a file only its owner can read. */
import type { Command } from 'commander';
import { PasoClient } from '../client.js';
import {
  DEFAULT_URL,
  credentialsFile,
  normalizeUrl,
  readCredentials,
  removeCredentials,
  writeCredentials,
} from '../credentials.js';
import { ApiError, CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Runner } from '../runner.js';

export function authCommands(program: Command, runner: Runner): void {
  program
    .command('login')
    .description('check a token against a gateway and keep both in the credentials file (mode 0600)')
    .addHelpText(
      'after',
      '\nThe token comes from --token, PASO_TOKEN, a prompt on a terminal, or the first line of stdin.\n' +
        'The file is $XDG_CONFIG_HOME/paso/credentials.json (default ~/.config/paso/credentials.json).',
    )
    .action(
      runner.action(async (ctx) => {
        const file = credentialsFile(ctx.env);
        const stored = await readCredentials(file);
        const url = normalizeUrl(ctx.globals.url || ctx.env.PASO_URL || stored.url || DEFAULT_URL);
        const token = ctx.globals.token || ctx.env.PASO_TOKEN || (await askToken());
        if (!token) throw new CliError('no token given', ExitCode.Unauthorized);
        try {
          await new PasoClient({ url, token }).get('/pipelines');
        } catch (err) {
          // 403: the token is good, its user only may not list pipelines.
          if (!(err instanceof ApiError && err.problem.status === 403)) throw err;
        }
        await writeCredentials(file, { url, token });
        if (ctx.out.json) return ctx.out.printJson({ url, file });
        ctx.out.line(`logged in to ${url}; credentials in ${file}`);
      }),
    );

  program
    .command('logout')
    .description('remove the credentials file')
    .action(
      runner.action(async (ctx) => {
        const file = credentialsFile(ctx.env);
        const removed = await removeCredentials(file);
        if (ctx.out.json) return ctx.out.printJson({ file, removed });
        ctx.out.line(removed ? `logged out: removed ${file}` : `not logged in (no ${file})`);
      }),
    );
}

/** Asks for the token without echoing it on a terminal; elsewhere reads stdin's first line. */
async function askToken(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split('\n')[0]!.trim();
  }
  process.stderr.write('Token: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let token = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return token;
        if (ch === '\u0003') throw new CliError('cancelled', ExitCode.Usage);
        token = ch === '\u007f' || ch === '\b' ? token.slice(0, -1) : token + ch;
      }
    }
    return token;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
