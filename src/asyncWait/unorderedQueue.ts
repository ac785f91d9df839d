import Denque from 'denque';
import { type Watermark } from '../elements/streamElement.js';
import { type Emitter, type HeldQueue } from './emitter.js';
import { DONE, MarkerNode, type HeldRecord, type QueueNode } from './heldRecord.js';

/**
 * A finer order within a segment (asyncWaitKeyed's `order: 'key'`): a done record may leave only once it is the
 * first record still held of its group (its key); the others wait until the one before them leaves.
 */
export interface GroupOrder<I, O> {
  /** True if no earlier record of `held`'s group is still held. O(1). */
  isFirst(held: HeldRecord<I, O>): boolean;
  /** `held` (the first of its group) leaves: returns the record of its group that is first now, or null. O(1). */
  leave(held: HeldRecord<I, O>): HeldRecord<I, O> | null;
}

/** The records between two markers (or after the last one), and the marker that closes them. */
class Segment<I, O> {
  /** Records of this segment not done yet. */
  outstanding = 0;
  /** Done records of this segment in completion order, while it is not the head; handed to `ready`
   * (and cleared) when it becomes the head. */
  done: HeldRecord<I, O>[] | null = null;
  /** The marker closing this segment; null while it is the last, open segment. */
  marker: MarkerNode<I, O> | null = null;
}

/**
 * Unordered emission (Flink's `UnorderedStreamElementQueue`). Markers (watermarks, side outputs, any
 * non-record kind but barriers, which never enter it) cut the held elements into segments. Records of the head
 * segment leave in completion order; a marker leaves once its segment is empty, and only then may the next
 * segment's records leave, in the order they completed while they waited.
 *
 * Held elements also sit in an intrusive doubly linked list in input order, so a record can leave from the
 * middle in O(1) while a slow record stays behind it, and teardown or a snapshot can visit them in input
 * order. Every operation is O(1) (amortised for the segment hand-over).
 */
export class UnorderedQueue<I, O> implements HeldQueue<I, O> {
  /** First and last held node in input order; null when empty. */
  private head: QueueNode<I, O> | null = null;
  private tail: QueueNode<I, O> | null = null;
  /** Open segments, oldest first; never empty. Reset on clear(). */
  private readonly segments = new Denque<Segment<I, O>>([new Segment<I, O>()]);
  /** Done records of the head segment, in completion order, not yet emitted; emptied on clear(). */
  private readonly ready = new Denque<HeldRecord<I, O>>();

  /**
   * @param groups - With a group order (keys), a done record of the head segment joins `ready` only as the first
   *   of its group; a later one joins when the record before it leaves. Null: completion order alone.
   */
  constructor(private readonly groups: GroupOrder<I, O> | null = null) {}

  isEmpty(): boolean {
    return this.head === null;
  }

  addRecord(held: HeldRecord<I, O>): void {
    const segment = this.segments.peekBack()!;
    segment.outstanding++;
    held.segment = segment;
    this.link(held);
  }

  addMarker(element: unknown): void {
    const marker = new MarkerNode<I, O>(element);
    this.segments.peekBack()!.marker = marker;
    this.segments.push(new Segment<I, O>());
    this.link(marker);
  }

  addWatermark(mark: Watermark): boolean {
    // A marker at the tail of the list has no record after it (a record after it would be linked after it, and
    // could not have left before it): the two watermarks are adjacent, and the open segment behind them is empty.
    const tail = this.tail;
    if (tail !== null && tail.isMarker && tail.absorb(mark)) return true;
    this.addMarker(mark);
    return false;
  }

  recordDone(held: HeldRecord<I, O>): void {
    const segment = held.segment as Segment<I, O>;
    segment.outstanding--;
    if (segment === this.segments.peekFront()) {
      // Not the first of its group: the record before it pushes it when it leaves (see flush).
      if (this.groups === null || this.groups.isFirst(held)) this.ready.push(held);
    } else {
      (segment.done ??= []).push(held); // behind a marker: wait, remembering completion order
    }
  }

  flush(out: Emitter<I, O>): void {
    const ready = this.ready;
    const segments = this.segments;
    while (!out.closed) {
      const done = ready.shift(); // denque: O(1)
      if (done !== undefined) {
        this.unlink(done);
        const groups = this.groups;
        if (groups !== null) {
          // The next of its group may go now, if it is done and in this (the head) segment; one still running is
          // pushed by recordDone, one behind a marker at the hand-over. Each joins `ready` once: only as the first.
          const next = groups.leave(done);
          if (next !== null && next.state === DONE && next.segment === segments.peekFront()) ready.push(next);
        }
        out.emitRecord(done);
        continue;
      }
      const head = segments.peekFront()!;
      if (head.outstanding !== 0 || head.marker === null) return;
      // The head segment is empty and closed: its marker leaves, and the next segment becomes the head.
      segments.shift(); // denque: O(1)
      const next = segments.peekFront()!;
      if (next.done !== null) {
        const groups = this.groups;
        // Every record before this segment has left, so each group's first record, if done, is here.
        for (const held of next.done) if (groups === null || groups.isFirst(held)) ready.push(held);
        next.done = null;
      }
      this.unlink(head.marker);
      // The marker goes out before any record of the segment it opens: those wait in `ready`.
      out.emitMarker(head.marker.element);
    }
  }

  forEach(visit: (node: QueueNode<I, O>) => void): void {
    for (let node = this.head; node !== null; node = node.next) visit(node);
  }

  clear(): void {
    // Unlink every node (O(held), at most capacity records and side outputs, and a watermark between each two):
    // a record whose call is still pending (a promise the caller keeps) must not keep its neighbours, or its
    // segment's done list and marker, alive after teardown.
    let node = this.head;
    while (node !== null) {
      const next = node.next;
      node.prev = node.next = null;
      if (!node.isMarker) node.segment = null;
      node = next;
    }
    this.head = this.tail = null;
    this.ready.clear();
    this.segments.clear();
    this.segments.push(new Segment<I, O>());
  }

  private link(node: QueueNode<I, O>): void {
    node.prev = this.tail;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
  }

  private unlink(node: QueueNode<I, O>): void {
    const { prev, next } = node;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    node.prev = node.next = null;
  }
}
