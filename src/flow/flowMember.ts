import { type SchedulerLike } from 'rxjs';
import { flowSlot, FlowGate } from './flowGate.js';
import { type IntervalTotal, type OpenInterval } from './intervalTotal.js';

/** Where a member adds up the time it held its chain's sources paused (internal). */
export interface BackPressureCounter {
  /** The intervals during which the member was full. */
  readonly backPressure: IntervalTotal;
}

/**
 * A flow-controlled operator's side of the gate (internal): it tells the gate when the operator becomes full
 * (inputs wait beyond its capacity) and when it drains, and adds up how long it was full, on the operator's
 * scheduler, into its metrics. The clock is read only at those transitions, never per record.
 */
export class FlowMember {
  /** True while this operator holds the gate shut. */
  private full = false;
  /** The interval during which it is full, counted in its metrics (live); null while not full. */
  private fullInterval: OpenInterval | null = null;

  private constructor(
    /** The chain's gate: joined from the slot, or created here by the most downstream operator. */
    readonly gate: FlowGate,
    private readonly scheduler: SchedulerLike,
    private readonly counter: BackPressureCounter,
  ) {}

  /** Joins the gate of the chain being subscribed, or starts one (this operator is then the most downstream). */
  static join(scheduler: SchedulerLike, counter: BackPressureCounter): FlowMember {
    return new FlowMember(flowSlot().current ?? new FlowGate(), scheduler, counter);
  }

  /** Reports whether inputs wait beyond capacity now; only a change reaches the gate. */
  update(waitingBeyondCapacity: boolean): void {
    if (waitingBeyondCapacity === this.full) return;
    this.full = waitingBeyondCapacity;
    if (waitingBeyondCapacity) {
      this.fullInterval = this.counter.backPressure.begin(this.scheduler);
      this.gate.filled();
    } else {
      this.counter.backPressure.end(this.fullInterval!);
      this.fullInterval = null;
      this.gate.drained();
    }
  }

  /**
   * The operator's subscription is ending: it stops holding the gate without resuming anyone. Its teardown runs
   * before its input's, so resuming here would make a synchronous source read on into an operator that ignores
   * everything (the rest of an array, say).
   */
  leave(): void {
    if (!this.full) return;
    this.full = false;
    this.counter.backPressure.end(this.fullInterval!);
    this.fullInterval = null;
    this.gate.left();
  }
}
