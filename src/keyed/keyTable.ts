import { type HeldRecord } from '../asyncWait/heldRecord.js';
import { type RecordTurns, type TurnHost } from '../asyncWait/recordTurns.js';
import { type GroupOrder } from '../asyncWait/unorderedQueue.js';
import { describe } from '../shared/describe.js';
import { AsyncKeyError } from './AsyncKeyError.js';

/** What a key may be: compared by value (SameValueZero), so equal keys are one key. */
export type KeyValue = string | number | bigint | boolean;

/**
 * One key's entry while it holds anything: its records in input order, as a singly linked list through the
 * records' `keyNext`, from admission until they leave the entry (see KeyTable), and its running count.
 */
class KeySlot<I, O> {
  /** Oldest record in the entry; null when it holds none. */
  head: HeldRecord<I, O> | null = null;
  /** Newest record in the entry: where the next admitted record of the key is linked. */
  tail: HeldRecord<I, O> | null = null;
  /** The oldest record of the key still waiting for its turn; null when none waits. Waiting records are a suffix. */
  next: HeldRecord<I, O> | null = null;
  /** Records of the key whose turn has come and that have not settled: at most perKeyConcurrency. */
  running = 0;

  constructor(readonly key: KeyValue) {}
}

/**
 * The per-key bookkeeping of {@link asyncWaitKeyed}: which records of each key run, which wait, and (in `order:
 * 'key'`) which record of each key may be emitted next. It is the run's RecordTurns (a record's first call starts
 * when its key has fewer than `perKeyConcurrency` records running) and, in 'key' order, the unordered queue's
 * GroupOrder (a done record leaves once every earlier record of its key has).
 *
 * A record is in its key's entry from admission until it leaves: at emission in 'key' order (so the entry knows
 * the key's oldest unemitted record), and when its turn comes in 'input' order (the ordered queue needs nothing
 * more). An entry is deleted as soon as it holds no record and runs none, so memory follows what is held, not how
 * many keys have been seen. Every operation is O(1) (one Map lookup per admitted record).
 *
 * Turns are FIFO per key: a key's records start in input order, so its waiting records are a suffix of its list.
 */
export class KeyTable<I, O> implements RecordTurns<I, O>, GroupOrder<I, O> {
  /** The entries of the keys that hold something; emptied on clear(). */
  private readonly slots = new Map<KeyValue, KeySlot<I, O>>();
  /** The run, set by attach() when the run is built. */
  private host: TurnHost<I, O> | null = null;

  constructor(
    private readonly operator: string,
    /** The user's key function. */
    private readonly keyOf: (value: I) => unknown,
    /** The most records of one key running at once. */
    private readonly perKey: number,
    /** True in 'key' order: records stay in their entry until emitted (GroupOrder); false in 'input' order. */
    private readonly keepUntilEmitted: boolean,
  ) {}

  /** The factory the run calls (its RecordTurnsFactory). */
  attach(host: TurnHost<I, O>): this {
    this.host = host;
    return this;
  }

  enter(held: HeldRecord<I, O>): boolean {
    const value = held.input!.value;
    let key: unknown;
    try {
      key = this.keyOf(value);
    } catch (err) {
      this.host!.fail(new AsyncKeyError(this.operator, value, err));
      return false;
    }
    // key() is user code: if it ended the subscription (an unsubscribe from inside it), the table was cleared by
    // the teardown, and nothing may be entered into it again (the activeKeys gauge would stay above 0).
    if (this.host!.closed) return false;
    if (!isKey(key)) {
      const problem = new TypeError(
        `it returned ${typeof key === 'object' && key !== null ? `an object (${(key as object).constructor?.name ?? 'no prototype'}) ${describe(key)}` : describe(key)}; a key must be a string, a number (not NaN), a bigint or a boolean (an object would be compared by identity)`,
      );
      this.host!.fail(new AsyncKeyError(this.operator, value, problem));
      return false;
    }
    const normal = key === 0 ? 0 : key; // -0 is the key 0 (a Map already treats them as one)
    let slot = this.slots.get(normal);
    if (slot === undefined) {
      slot = new KeySlot<I, O>(normal);
      this.slots.set(normal, slot);
      this.host!.gateCounters.activeKeys++;
    }
    held.keySlot = slot;
    if (slot.tail === null) slot.head = held;
    else slot.tail.keyNext = held;
    slot.tail = held;
    if (slot.next === null) slot.next = held;
    return true;
  }

  take(held: HeldRecord<I, O>): boolean {
    const slot = held.keySlot as KeySlot<I, O>;
    // FIFO per key: a newcomer starts only if nothing of its key waits ahead of it (then `next` is itself).
    if (slot.next !== held || slot.running >= this.perKey) return false;
    this.startTurn(slot);
    return true;
  }

  settled(held: HeldRecord<I, O>): void {
    const slot = held.keySlot as KeySlot<I, O>;
    slot.running--;
    if (!this.keepUntilEmitted) held.keySlot = null; // 'input' order: it left the entry when its turn came
    const next = slot.next;
    if (next !== null) {
      // The waiting record's turn is taken now, before anything else runs: a record of the key admitted meanwhile
      // (the emission below this may admit some) then queues behind it, as FIFO per key requires.
      this.startTurn(slot);
      this.host!.turnCame(next);
      return;
    }
    this.release(slot);
  }

  isFirst(held: HeldRecord<I, O>): boolean {
    return (held.keySlot as KeySlot<I, O>).head === held;
  }

  leave(held: HeldRecord<I, O>): HeldRecord<I, O> | null {
    const slot = held.keySlot as KeySlot<I, O>;
    const next = this.unlinkHead(slot, held);
    this.release(slot);
    return next;
  }

  clear(): void {
    for (const slot of this.slots.values()) {
      // A record kept alive by a pending call must not keep its key-mates (or its entry) alive after teardown.
      let held = slot.head;
      while (held !== null) {
        const following = held.keyNext;
        held.keyNext = null;
        held.keySlot = null;
        held = following;
      }
      slot.head = slot.tail = slot.next = null;
    }
    if (this.host !== null) this.host.gateCounters.activeKeys -= this.slots.size; // the gauge is given back
    this.slots.clear();
  }

  /** The slot's `next` record's turn comes: it runs, and in 'input' order leaves the entry (it is the head). */
  private startTurn(slot: KeySlot<I, O>): void {
    const held = slot.next!;
    slot.running++;
    slot.next = held.keyNext;
    if (!this.keepUntilEmitted) this.unlinkHead(slot, held);
  }

  /** Removes `held`, the entry's oldest record; returns the oldest now. */
  private unlinkHead(slot: KeySlot<I, O>, held: HeldRecord<I, O>): HeldRecord<I, O> | null {
    const next = held.keyNext;
    held.keyNext = null;
    if (this.keepUntilEmitted) held.keySlot = null;
    slot.head = next;
    if (next === null) slot.tail = null;
    return next;
  }

  /** Deletes the entry once it holds and runs nothing. */
  private release(slot: KeySlot<I, O>): void {
    if (slot.head === null && slot.running === 0) {
      this.slots.delete(slot.key);
      this.host!.gateCounters.activeKeys--;
    }
  }
}

function isKey(key: unknown): key is KeyValue {
  const type = typeof key;
  return type === 'string' || (type === 'number' && !Number.isNaN(key)) || type === 'bigint' || type === 'boolean';
}
