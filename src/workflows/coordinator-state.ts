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
import type { PipelineState } from '../shared/pipeline-state.js';
import { cloneJson, stableJson } from './json.js';
import type { Effect, LockTableData } from './lock-table.js';
import { LockTable } from './lock-table.js';

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
  locks: LockTableData;
  /** The coordinator is started with its first definition; the first put then reports the creation. */
  creationReported: boolean;
}

export class IdempotencyConflict extends Error {
  constructor(key: string) {
    super(`idempotencyKey "${key}" was already used for a different request`);
  }
}

export class CoordinatorState {
  /** The stage locks, inbound lists and transitions; its data lives inside `data`, so it is carried along. */
  readonly locks: LockTable;

  private constructor(private readonly data: CoordinatorData) {
    this.locks = new LockTable(data.locks);
  }

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
      locks: LockTable.create(
        definition.executionMode,
        definition.stages.map((st) => st.name),
      ).toJSON(),
    });
  }

  static restore(data: CoordinatorData): CoordinatorState {
    return new CoordinatorState(cloneJson(data));
  }

  get deleted(): boolean {
    return this.data.deleted;
  }

  /**
   * Stores a new version, unless nothing changed. Putting a deleted pipeline brings it back. A new mode or
   * new stages apply to the locks at once; the effects say whom to tell.
   */
  putDefinition(
    definition: PipelineDefinition,
    by: string,
    at: string,
  ): { result: PutDefinitionResult; effects: Effect[] } {
    const created = !this.data.creationReported || this.data.deleted;
    this.data.creationReported = true;
    if (!this.data.deleted && stableJson(definition) === stableJson(this.data.definition)) {
      return { result: { version: this.data.version, changed: false, created }, effects: [] };
    }
    this.data.definition = definition;
    this.data.version += 1;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
    this.data.deleted = false;
    const effects = this.locks.redefine(
      definition.executionMode,
      definition.stages.map((st) => st.name),
    );
    return { result: { version: this.data.version, changed: true, created }, effects };
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
  executionForKey(key: string): string | null {
    return this.findKey(key)?.executionId ?? null;
  }

  markDeleted(by: string, at: string): void {
    this.data.deleted = true;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
  }

  state(): PipelineState {
    return {
      name: this.data.name,
      executionMode: this.data.definition.executionMode,
      version: this.data.version,
      stages: this.data.definition.stages.map((st) => ({ name: st.name, ...this.locks.view(st.name) })),
    };
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
