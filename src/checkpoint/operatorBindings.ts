import { type OperatorFunction } from 'rxjs';
import { type CheckpointBarrier } from '../elements/streamElement.js';
import { describe } from '../shared/describe.js';
import { CheckpointBindingError } from './CheckpointBindingError.js';
import {
  bindingSlot, statefulDescriptorOf, type OperatorCheckpointHandle, type PipelineBinding, type StatefulDescriptor,
} from './stateful.js';

/** What the bindings need from their run. */
export interface BindingHost {
  /** True once the run has ended. */
  readonly closed: boolean;
  /** True once the source is being opened: no stateful operator can be bound after that. */
  readonly sourceOpened: boolean;
  /** True while barrier `checkpointId` is on its way to the end. */
  inFlight(checkpointId: number): boolean;
  /** An operator's state for checkpoint `checkpointId` (see OperatorCheckpointHandle.snapshot). */
  onSnapshot(descriptor: StatefulDescriptor, checkpointId: number, state: unknown): void;
}

/**
 * The stateful operators of one run, bound as they are subscribed (see statefulOperator): which are bound, what
 * each gets restored, which are draining (their input ended, they have not) and which have ended. Also the
 * PipelineBinding the run publishes in the BindingSlot.
 */
export class OperatorBindings {
  /** What the run publishes in the BindingSlot while it subscribes its operators. */
  readonly binding: PipelineBinding = {
    register: (operator, kind, id) => this.register(operator, kind, id),
    awaits: (operator) => this.awaits(operator),
    inFlight: (checkpointId) => this.host.inFlight(checkpointId),
  };
  /** The ids of the stateful operators bound so far (each once). */
  private readonly registered = new Set<string>();
  /** Restored operator states by id, for the handles; emptied by clear(). */
  private restoredStates = new Map<string, unknown>();
  /** The restored checkpoint's id, for the handles; undefined on a fresh start. */
  private restoredFrom: number | undefined = undefined;
  /** How to hand a barrier to each stateful operator that is draining, by id. */
  private readonly drainingTakes = new Map<string, (barrier: CheckpointBarrier) => void>();
  /** The ids of the stateful operators whose subscription has ended (their state is spent). */
  private readonly endedIds = new Set<string>();

  constructor(
    private readonly host: BindingHost,
    /** pipe()'s arguments. */
    private readonly operators: readonly OperatorFunction<unknown, unknown>[],
    /** The stateful ones among them, in pipeline order. */
    private readonly descriptors: readonly StatefulDescriptor[],
  ) {}

  /** Sets what the handles restore; before the operators are subscribed. */
  restore(states: Map<string, unknown>, restoredFrom: number | undefined): void {
    this.restoredStates = states;
    this.restoredFrom = restoredFrom;
  }

  /** A stateful operator of the pipeline that has not been bound, or undefined when all are. */
  unbound(): StatefulDescriptor | undefined {
    return this.descriptors.find((descriptor) => !this.registered.has(descriptor.id!));
  }

  /** True once the operator's subscription has ended. */
  ended(descriptor: StatefulDescriptor): boolean {
    return this.endedIds.has(descriptor.id!);
  }

  /**
   * Where to hand a barrier after the source has completed: the one stateful operator still draining (in a
   * chain there is at most one at a time); undefined when there is none, or more than one.
   */
  drainingTake(): ((barrier: CheckpointBarrier) => void) | undefined {
    if (this.drainingTakes.size !== 1) return undefined;
    const [take] = this.drainingTakes.values();
    return take;
  }

  /** Forgets what the run held (on teardown). */
  clear(): void {
    this.drainingTakes.clear();
    this.restoredStates = new Map();
    bindingSlot().live.delete(this.binding);
  }

  /**
   * True for one of pipe()'s stateful operators not bound yet while the source is not open: an operator before
   * it subscribes it late (subscribeOn, delaySubscription), and it binds to this run then.
   */
  private awaits(operator: object): boolean {
    if (this.host.closed || this.host.sourceOpened || !this.operators.includes(operator as OperatorFunction<unknown, unknown>)) return false;
    const descriptor = statefulDescriptorOf(operator);
    return descriptor !== undefined && this.descriptors.includes(descriptor) && !this.registered.has(descriptor.id!);
  }

  /**
   * A stateful operator is being subscribed (the BindingSlot's current pipeline is this run, or it awaits it): it
   * must be one of pipe()'s arguments, subscribed once. Returns its handle: its restored state, where its
   * snapshots go, and how it says that it is draining.
   */
  private register(operator: object, kind: string, id: string | undefined): OperatorCheckpointHandle {
    const index = this.operators.indexOf(operator as OperatorFunction<unknown, unknown>);
    const descriptor = index === -1 ? undefined : statefulDescriptorOf(operator);
    const named = `${kind}${id === undefined ? '' : ` (id ${describe(id)})`}`;
    if (descriptor === undefined || !this.descriptors.includes(descriptor)) {
      throw new CheckpointBindingError(
        { kind, id },
        `the ${named} is inside a composed operator (it is subscribed with the pipeline, but is not one of pipe()'s arguments), ` +
          'so the pipeline cannot check its id before it runs; pass it to pipe() as an argument of its own',
      );
    }
    const key = descriptor.id!;
    if (this.registered.has(key)) {
      throw new CheckpointBindingError({ kind, id }, `the ${named} is subscribed twice in one pipeline; its state can only be checkpointed once`);
    }
    this.registered.add(key);
    return {
      restored: this.restoredStates.get(key),
      restoredFrom: this.restoredFrom,
      snapshot: (checkpointId, state) => this.host.onSnapshot(descriptor, checkpointId, state),
      draining: (take) => {
        if (take !== null) {
          this.drainingTakes.set(key, take);
          return;
        }
        this.drainingTakes.delete(key);
        this.endedIds.add(key);
      },
    };
  }
}
