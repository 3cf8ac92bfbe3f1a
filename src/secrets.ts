/**
 * Secrets for commands. They are defined where the workers run (the config file's `secrets`: a value, a file,
 * or an environment variable of the worker; optionally only for some pipelines), never in a definition. A
 * command names the ones it needs (`secrets: [DEPLOY_TOKEN]`); the worker reads their values when the command
 * starts and gives them to its process as environment variables, and the command's output is masked as it
 * streams. Only names travel through Temporal: no value is ever in a workflow's history, the API, a
 * notification, a chat post or an annotation.
 *
 * The gateway uses the same catalogue to refuse a definition that names an unknown secret, or one that is not
 * for that pipeline; it never reads a value.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineDefinition } from './shared/definition.js';
import type { FieldError } from './shared/validation.js';
import { formatPath } from './shared/validation.js';

export interface SecretSource {
  name: string;
  /** Exactly one of `value`, `file` (its contents, less one trailing newline) and `env` (the worker's variable). */
  value?: string | undefined;
  file?: string | undefined;
  env?: string | undefined;
  /** Only commands of these pipelines may use it; unset: any pipeline. */
  pipelines?: readonly string[] | undefined;
}

/** A secret a command asked for cannot be given to it. The message names the secret, never a value. */
export class SecretUnavailable extends Error {
  override name = 'SecretUnavailable';
}

export class Secrets {
  private readonly byName: Map<string, SecretSource>;

  constructor(
    sources: readonly SecretSource[],
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Relative `file` paths are read from here (the config file's folder). */
    private readonly baseDir: string = process.cwd(),
  ) {
    this.byName = new Map(sources.map((s) => [s.name, s]));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Why `pipeline` may not use the secret `name`, or null when it may. */
  refusal(name: string, pipeline: string): string | null {
    const source = this.byName.get(name);
    if (!source) {
      const known = this.names;
      return `no secret "${name}" is configured${known.length ? ` (configured: ${known.join(', ')})` : ''}`;
    }
    if (source.pipelines && !source.pipelines.includes(pipeline)) {
      return `the secret "${name}" is not for pipeline "${pipeline}" (only ${source.pipelines.join(', ')})`;
    }
    return null;
  }

  /** Each secret a definition names that is unknown, or not for this pipeline, with its path. */
  check(definition: PipelineDefinition): FieldError[] {
    const errors: FieldError[] = [];
    const visit = (names: readonly string[] | undefined, at: PropertyKey[]) =>
      names?.forEach((name, i) => {
        const why = this.refusal(name, definition.name);
        if (why) errors.push({ path: formatPath([...at, 'secrets', i]), message: why });
      });
    definition.check.forEach((c, i) => visit(c.secrets, ['check', i]));
    definition.stages.forEach((stage, s) =>
      stage.actions.forEach((action, a) => {
        if (action.type === 'command') visit(action.secrets, ['stages', s, 'actions', a]);
      }),
    );
    return errors;
  }

  /**
   * The values of `names` for a script of `pipeline`, read now (a file or variable changed since the worker
   * started is read as it is now). Throws {@link SecretUnavailable} for the first that cannot be given.
   */
  async resolve(names: readonly string[] | undefined, pipeline: string): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of names ?? []) {
      const why = this.refusal(name, pipeline);
      if (why) throw new SecretUnavailable(`${why} on this worker`);
      values[name] = await this.read(this.byName.get(name)!);
    }
    return values;
  }

  private async read(source: SecretSource): Promise<string> {
    if (source.value !== undefined) return source.value;
    if (source.env !== undefined) {
      const value = this.env[source.env];
      if (value === undefined || value === '') {
        throw new SecretUnavailable(
          `the secret "${source.name}" is not set: its variable ${source.env} is empty or unset on this worker`,
        );
      }
      return value;
    }
    const file = path.resolve(this.baseDir, source.file!);
    try {
      const content = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
      if (content === '') throw new Error('the file is empty');
      return content;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new SecretUnavailable(`the secret "${source.name}" cannot be read from ${file} on this worker (${reason})`);
    }
  }
}
