/**
 * The demand channel between a pipeline's flow-controlled operators and its pull sources (internal).
 *
 * One gate serves one chain of operators subscribed together: the first sluice operator to subscribe (the most
 * downstream one) creates it, and every operator and source subscribed synchronously beneath it joins it through
 * the {@link flowSlot}. An operator is *full* while inputs wait beyond its capacity; the gate is open while no
 * member is full. A source reads only while the gate is open, and is resumed the moment it opens again.
 *
 * Concurrency: everything runs on the JS event loop. `drained()` resumes readers synchronously, from inside the
 * operator that freed a slot (after its emission loop, at a consistent point). A reader that is already
 * reading only notes the wake-up: see PullLoop.resume.
 */
export class FlowGate {
  /** Members full right now: the gate is open at 0. */
  private fullMembers = 0;
  /** The sources reading through this gate; each leaves when its subscription ends. */
  private readonly readers = new Set<GateReader>();

  /** True while no member is full: a source may read. */
  get open(): boolean {
    return this.fullMembers === 0;
  }

  /** A member became full (inputs now wait beyond its capacity). */
  filled(): void {
    this.fullMembers++;
  }

  /** A member that was full is no longer: when none is left full, the paused readers resume. */
  drained(): void {
    if (--this.fullMembers === 0) this.resumeReaders();
  }

  /**
   * A full member ended (its subscription is going away): it stops holding the gate, and nobody is resumed yet.
   * Its teardown runs before its input's, and resuming here would make its own synchronous source read on into an
   * operator that ignores everything (the rest of an array, say). See {@link afterLeave}.
   */
  left(): void {
    this.fullMembers--;
  }

  /**
   * After a full member ended and its own input has been unsubscribed (its sources have left the gate): the
   * other sources of the gate (a merge) resume if no member is full any more. Without this they would wait for
   * a drain that never comes.
   */
  afterLeave(): void {
    if (this.fullMembers === 0) this.resumeReaders();
  }

  /** Resumes the paused readers, while the gate stays open. */
  private resumeReaders(): void {
    const readers = this.readers;
    if (readers.size === 1) {
      for (const reader of readers) reader.resume();
      return;
    }
    // Several sources (merge of pull sources): each resumed one goes to the back, so the next reopening offers
    // room to another first, and none starves while another keeps refilling the operator.
    for (let i = readers.size; i > 0 && this.fullMembers === 0; i--) {
      const first = readers.values().next().value as GateReader;
      readers.delete(first);
      readers.add(first);
      first.resume();
    }
  }

  join(reader: GateReader): void {
    this.readers.add(reader);
  }

  leave(reader: GateReader): void {
    this.readers.delete(reader);
  }
}

/** A source reading through a gate (internal). */
export interface GateReader {
  /** The gate opened: read again if paused. Must tolerate being called while already reading. */
  resume(): void;
}

/** The process-wide slot a subscribing operator puts its gate in for the sources beneath it (see flowSlot). */
interface FlowSlot {
  readonly protocol: number;
  /** The gate of the chain being subscribed right now (during its synchronous subscribe); else null. */
  current: FlowGate | null;
}

/** The version of the flow protocol this copy speaks. */
const FLOW_PROTOCOL = 1;
/** Where the FlowSlot lives on globalThis, shared by every copy of the package (ESM and CJS side by side). */
const SLOT_KEY = Symbol.for('rxjs-sluice.flow-gate');

/**
 * The slot through which a gate reaches the sources of its chain. RxJS subscribes a chain synchronously from the
 * output up to the source, so an operator that puts its gate here while subscribing its input is seen by every
 * operator and source subscribed beneath it, plain RxJS ones in between included. A pull source also delivers
 * its end with its gate here, so `repeat`, `retry` or `concat` resubscribing inside the chain stay in it.
 * Anything else subscribed later (an inner Observable of mergeMap, a subscribe from a timer) does not see it.
 */
export function flowSlot(): FlowSlot {
  return cachedSlot ?? (cachedSlot = sharedSlot());
}

/** This copy's reference to the shared slot, looked up once. */
let cachedSlot: FlowSlot | undefined;

function sharedSlot(): FlowSlot {
  const holder = globalThis as { [SLOT_KEY]?: FlowSlot };
  const slot = holder[SLOT_KEY];
  if (slot !== undefined && slot.protocol === FLOW_PROTOCOL) return slot;
  if (slot !== undefined) {
    throw new TypeError(
      `rxjs-sluice: two copies that cannot work together are loaded (flow-control protocol ${String(slot.protocol)} and ${FLOW_PROTOCOL}); install one version`,
    );
  }
  const created: FlowSlot = { protocol: FLOW_PROTOCOL, current: null };
  Object.defineProperty(holder, SLOT_KEY, { value: created, enumerable: false, writable: false, configurable: false });
  return created;
}

/**
 * Runs `subscribe` with `gate` as the slot's current gate, and restores the previous one afterwards (also when
 * it throws), so nothing subscribed outside this synchronous call sees it.
 */
export function withGate<R>(gate: FlowGate | null, subscribe: () => R): R {
  const slot = flowSlot();
  const previous = slot.current;
  slot.current = gate;
  try {
    return subscribe();
  } finally {
    slot.current = previous;
  }
}

/**
 * Runs `handle` with the flow slot cleared when a gate is in it, and restores it afterwards: what an operator does
 * with an element that arrives during its input's synchronous subscribe (a synchronous source floods inside it)
 * must not see the gate. A call, a batch function, a fallback or a downstream operator that subscribes a pull
 * source there would join this chain's gate, pause when the operator fills, and never finish (the operator waits
 * for that call to drain). O(1) when the slot is empty, which is every element but a synchronous flood's.
 */
export function outsideGate(handle: () => void): void {
  const slot = flowSlot();
  const previous = slot.current;
  if (previous === null) {
    handle();
    return;
  }
  slot.current = null;
  try {
    handle();
  } finally {
    slot.current = previous;
  }
}
