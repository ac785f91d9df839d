import { type SchedulerLike, type Subscription } from 'rxjs';
import { scheduleAfter } from '../shared/schedulerDelay.js';
import { type HeldRecord } from './heldRecord.js';
import { type InFlight } from './inFlight.js';

/**
 * Reports records whose own call (retries and waits for a call slot included) has been pending longer than
 * `stallWarning` ms, once each (internal). One timer at a time, armed for the oldest record not yet reported;
 * the in-flight list is in admission order, so the records due are a prefix of it. A check walks the records
 * already reported at its front (each a stall, so rare), never the whole list on a hot path: nothing runs per
 * record but one comparison when a call starts.
 */
export class StallWatch<I, O> {
  /** The pending check, if any. */
  private timer: Subscription | null = null;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** The `stallWarning` threshold in ms. */
    private readonly threshold: number,
    private readonly inFlight: InFlight<I, O>,
    /** Reports one stalled record and its age; may end the run (a hook that unsubscribes). */
    private readonly report: (held: HeldRecord<I, O>, age: number) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /** A record's call is about to start or to wait for the gate: make sure a check is armed for the oldest one. */
  watch(): void {
    if (this.timer === null) this.arm();
  }

  clear(): void {
    this.timer?.unsubscribe();
    this.timer = null;
  }

  private arm(): void {
    const held = this.firstUnreported();
    if (held === null) return;
    const delay = Math.max(0, held.since + this.threshold - this.scheduler.now());
    this.timer = scheduleAfter(this.scheduler, delay, () => {
      this.timer = null;
      this.check();
    });
  }

  private firstUnreported(): HeldRecord<I, O> | null {
    let held = this.inFlight.calls.front;
    while (held !== null && held.stallWarned) held = held.listNext;
    return held;
  }

  private check(): void {
    if (this.isClosed()) return;
    const now = this.scheduler.now();
    for (let held = this.firstUnreported(); held !== null; held = held.listNext) {
      if (held.stallWarned) continue;
      const age = now - held.since;
      if (age < this.threshold) break; // admission order: the rest are younger
      held.stallWarned = true;
      this.report(held, age);
      if (this.isClosed()) return;
    }
    this.arm();
  }
}
