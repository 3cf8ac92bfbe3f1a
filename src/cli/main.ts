#!/usr/bin/env node
/** `paso`, the command line (the package's `bin`): runs the program and exits with its code. */
import { run } from './program.js';

// A reader that goes away (`paso executions web | head`) is no error of ours: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv);
