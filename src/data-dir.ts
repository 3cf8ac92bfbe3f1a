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

/** An action's log in the store; names are validated by the definition schema and the execution id pattern. */
export function actionLogKey(executionId: string, stage: string, action: string): string {
  return `${executionId}/${stage}/${action}`;
}

/** Stage names start with a letter or digit, so `.talkback` can never be a stage's directory. */
export function talkbackLogKey(executionId: string, id: string): string {
  return `${executionId}/.talkback/${id}`;
}

/** Where a log is on this machine: the worker's file its commands write, and the file store's copy. */
export function logPath(dataDir: string, key: string): string {
  // Keys are built only from checked names: none can hold ".." or start with "/".
  return path.join(dataDir, 'logs', `${key}.log`);
}

export function actionLogPath(dataDir: string, executionId: string, stage: string, action: string): string {
  return logPath(dataDir, actionLogKey(executionId, stage, action));
}

export function talkbackLogPath(dataDir: string, executionId: string, id: string): string {
  return logPath(dataDir, talkbackLogKey(executionId, id));
}

export function workspacePath(dataDir: string, executionId: string): string {
  return path.join(dataDir, 'workspaces', executionId);
}

export function temporalDbPath(dataDir: string): string {
  return path.join(dataDir, 'temporal.db');
}
