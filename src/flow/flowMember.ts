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
  /** True while drained() runs the sources it resumed (see update). */
  private reopening = false;
  /** True when the operator ended while full, until afterLeave() has let the gate's other sources go on. */
  private leftFull = false;

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

  /**
   * Reports whether inputs wait beyond capacity now; only a change reaches the gate.
   *
   * Under a fast source the operator sits at capacity, and each freed slot reopens the gate, whose source then
   * reads synchronously, inside drained(), until the operator is full again: the same full period, with no time
   * in between. So the period is ended only if the operator is still not full once the resumed sources are
   * done; a refill inside drained() keeps the open interval (no clock read, no allocation per record).
   */
  update(waitingBeyondCapacity: boolean): void {
    if (waitingBeyondCapacity === this.full) return;
    this.full = waitingBeyondCapacity;
    if (waitingBeyondCapacity) {
      if (this.fullInterval === null) this.fullInterval = this.counter.backPressure.begin(this.scheduler);
      this.gate.filled();
      return;
    }
    const outermost = !this.reopening;
    this.reopening = true;
    try {
      this.gate.drained();
    } finally {
      if (outermost) this.reopening = false;
    }
    if (outermost && !this.full && this.fullInterval !== null) {
      this.counter.backPressure.end(this.fullInterval);
      this.fullInterval = null;
    }
  }

  /**
   * The operator's subscription is ending: it stops holding the gate without resuming anyone (see FlowGate.left);
   * {@link afterLeave} resumes the gate's other sources once the operator's own input is unsubscribed.
   */
  leave(): void {
    if (this.fullInterval !== null) {
      // Ended here even when an update() is still on the stack (a teardown from inside drained()): it finds none.
      this.counter.backPressure.end(this.fullInterval);
      this.fullInterval = null;
    }
    if (!this.full) return;
    this.full = false;
    this.leftFull = true;
    this.gate.left();
  }

  /** After the operator's input was unsubscribed: if it left the gate while full, the other sources may go on. */
  afterLeave(): void {
    if (!this.leftFull) return;
    this.leftFull = false;
    this.gate.afterLeave();
  }
}
