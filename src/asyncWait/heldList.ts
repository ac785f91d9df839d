import { type HeldRecord } from './heldRecord.js';

/**
 * An intrusive doubly linked list of held records, through their `listPrev` / `listNext` fields: append at the
 * tail, remove from anywhere, both O(1) with no allocation. A record is in at most one HeldList at a time, and
 * `list` says which, so remove() is a no-op for a record that is not in this one.
 */
export class HeldList<I, O> {
  /** Oldest and newest member; null when empty. */
  front: HeldRecord<I, O> | null = null;
  private back: HeldRecord<I, O> | null = null;

  isEmpty(): boolean {
    return this.front === null;
  }

  push(held: HeldRecord<I, O>): void {
    held.list = this;
    held.listPrev = this.back;
    held.listNext = null;
    if (this.back === null) this.front = held;
    else this.back.listNext = held;
    this.back = held;
  }

  remove(held: HeldRecord<I, O>): void {
    if (held.list !== this) return;
    const { listPrev: prev, listNext: next } = held;
    if (prev === null) this.front = next;
    else prev.listNext = next;
    if (next === null) this.back = prev;
    else next.listPrev = prev;
    held.list = held.listPrev = held.listNext = null;
  }

  /** Unlinks every member (teardown: a record kept alive by a pending promise then holds no neighbours). */
  clear(): void {
    let held = this.front;
    while (held !== null) {
      const next = held.listNext;
      held.list = held.listPrev = held.listNext = null;
      held = next;
    }
    this.front = this.back = null;
  }
}
