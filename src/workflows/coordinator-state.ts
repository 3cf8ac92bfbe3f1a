/**
 * The coordinator's state and its rules, as a plain class with no Temporal in it: the workflow feeds it
 * events and persists `toJSON()` across continue-as-new. Unit-tested on its own.
 */
import type { PipelineDefinition } from '../shared/definition.js';
import { executionIdOf } from '../shared/execution.js';
import type {
  AllocateExecutionInput,
  AllocateExecutionResult,
  PipelineSnapshot,
  PutDefinitionResult,
} from '../shared/messages.js';
import { cloneJson, stableJson } from './json.js';

/** How many idempotency keys are remembered; older ones are forgotten first. */
export const IDEMPOTENCY_KEYS_KEPT = 1000;

interface IdempotencyEntry {
  key: string;
  executionId: string;
  requestDigest: string;
}

/** Everything the coordinator carries across continue-as-new: plain JSON, no Maps. */
export interface CoordinatorData extends PipelineSnapshot {
  idempotency: IdempotencyEntry[];
  /** The coordinator is started with its first definition; the first put then reports the creation. */
  creationReported: boolean;
}

export class IdempotencyConflict extends Error {
  constructor(key: string) {
    super(`idempotencyKey "${key}" was already used for a different request`);
  }
}

export class CoordinatorState {
  private constructor(private readonly data: CoordinatorData) {}

  static create(definition: PipelineDefinition, by: string, at: string): CoordinatorState {
    return new CoordinatorState({
      name: definition.name,
      definition,
      version: 1,
      updatedAt: at,
      updatedBy: by,
      executionsStarted: 0,
      idempotency: [],
      deleted: false,
      creationReported: false,
    });
  }

  static restore(data: CoordinatorData): CoordinatorState {
    return new CoordinatorState(cloneJson(data));
  }

  get deleted(): boolean {
    return this.data.deleted;
  }

  /** Stores a new version, unless nothing changed. Putting a deleted pipeline brings it back. */
  putDefinition(definition: PipelineDefinition, by: string, at: string): PutDefinitionResult {
    const created = !this.data.creationReported || this.data.deleted;
    this.data.creationReported = true;
    if (!this.data.deleted && stableJson(definition) === stableJson(this.data.definition)) {
      return { version: this.data.version, changed: false, created };
    }
    this.data.definition = definition;
    this.data.version += 1;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
    this.data.deleted = false;
    return { version: this.data.version, changed: true, created };
  }

  /** Throws {@link IdempotencyConflict} when `allocate` would refuse this request. Changes nothing. */
  checkAllocation({ idempotencyKey, requestDigest }: AllocateExecutionInput): void {
    const seen = this.findKey(idempotencyKey);
    if (seen && seen.requestDigest !== requestDigest) throw new IdempotencyConflict(seen.key);
  }

  /** Gives the next execution id, or the one already given for this idempotency key. */
  allocate(input: AllocateExecutionInput): AllocateExecutionResult {
    this.checkAllocation(input);
    const { idempotencyKey, requestDigest } = input;
    const seen = this.findKey(idempotencyKey);
    if (seen) return { ...this.current(), executionId: seen.executionId, created: false };
    this.data.executionsStarted += 1;
    const executionId = executionIdOf(this.data.name, this.data.executionsStarted);
    if (idempotencyKey !== undefined) {
      this.data.idempotency.push({ key: idempotencyKey, executionId, requestDigest });
      if (this.data.idempotency.length > IDEMPOTENCY_KEYS_KEPT) this.data.idempotency.shift();
    }
    return { ...this.current(), executionId, created: true };
  }

  /**
   * A deleted pipeline keeps its coordinator (and so its execution counter): putting it again continues the
   * numbering, so a new execution can never take the id of an old one.
   */
  markDeleted(by: string, at: string): void {
    this.data.deleted = true;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
  }

  snapshot(): PipelineSnapshot {
    const { name, definition, version, updatedAt, updatedBy, executionsStarted, deleted } = this.data;
    return { name, definition, version, updatedAt, updatedBy, executionsStarted, deleted };
  }

  toJSON(): CoordinatorData {
    return cloneJson(this.data);
  }

  private findKey(key: string | undefined): IdempotencyEntry | undefined {
    return key === undefined ? undefined : this.data.idempotency.find((e) => e.key === key);
  }

  private current() {
    return { pipelineVersion: this.data.version, definition: this.data.definition };
  }
}
