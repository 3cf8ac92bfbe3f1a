/**
 * Where Paso keeps files under `$PASO_DATA_DIR`. Workers write, the gateway reads: in a multi-host
 * deployment the directory is a shared volume (docker-compose.yml mounts one).
 *
 *   temporal.db                            the embedded dev server's SQLite database
 *   logs/<executionId>/<stage>/<action>.log  a command action's whole output, every attempt appended
 *   workspaces/<executionId>/                the working directory of an execution's commands
 */
import path from 'node:path';

export function actionLogPath(dataDir: string, executionId: string, stage: string, action: string): string {
  // Names are validated by the definition schema and the execution id pattern: none can hold "/" or be "..".
  return path.join(dataDir, 'logs', executionId, stage, `${action}.log`);
}

export function workspacePath(dataDir: string, executionId: string): string {
  return path.join(dataDir, 'workspaces', executionId);
}

export function temporalDbPath(dataDir: string): string {
  return path.join(dataDir, 'temporal.db');
}
