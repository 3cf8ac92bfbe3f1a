/**
 * Where Paso keeps files under `$PASO_DATA_DIR`. Workers write, the gateway reads: in a multi-host
 * deployment the directory is a shared volume (docker-compose.yml mounts one).
 *
 *   temporal.db                            the embedded dev server's SQLite database
 *   logs/<executionId>/<stage>/<action>.log  a command action's whole output, every attempt appended
 *   logs/<executionId>/.talkback/<id>.log    a Talkback command's whole output
 *   workspaces/<executionId>/                the working directory of an execution's commands
 *   annotations/, attachments/               see annotations.ts
 */
import path from 'node:path';

export function actionLogPath(dataDir: string, executionId: string, stage: string, action: string): string {
  // Names are validated by the definition schema and the execution id pattern: none can hold "/" or be "..".
  return path.join(dataDir, 'logs', executionId, stage, `${action}.log`);
}

/** Stage names start with a letter or digit, so `.talkback` can never be a stage's directory. */
export function talkbackLogPath(dataDir: string, executionId: string, id: string): string {
  return path.join(dataDir, 'logs', executionId, '.talkback', `${id}.log`);
}

export function workspacePath(dataDir: string, executionId: string): string {
  return path.join(dataDir, 'workspaces', executionId);
}

export function temporalDbPath(dataDir: string): string {
  return path.join(dataDir, 'temporal.db');
}
