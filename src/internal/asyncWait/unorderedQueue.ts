import Denque from 'denque';
import { type Emitter, type HeldQueue } from './emitter.js';
import { DONE, MarkerNode, type HeldRecord, type QueueNode } from './heldRecord.js';

/**
 * Unordered emission (Flink's `UnorderedStreamElementQueue`). Markers (watermarks, barriers, any non-record)
 * cut the held elements into segments. Records of the head segment leave in completion order; a marker
 * leaves once its segment is empty, and only then may the next segment's records leave.
 *
 * Held elements sit in an intrusive doubly linked list in input order, so a record can leave from the
 * middle in O(1) while a slow record stays behind it. Each record is scanned at most once when its segment
 * becomes the head, so every operation is amortised O(1).
 */
export class UnorderedQueue<I, O> implements HeldQueue<I, O> {
  /** First and last held node in input order; null when empty. */
  private head: QueueNode<I, O> | null = null;
  private tail: QueueNode<I, O> | null = null;
  /** Segment number of the head segment: its done records may leave at once. */
  private headSegment = 0;
  /** Segment number new records join; bumped by every marker. */
  private tailSegment = 0;
  /** Records of the head segment that are not done yet. */
  private headOutstanding = 0;
  /** Done records of the head segment, in completion order, not yet emitted; emptied on clear(). */
  private readonly ready = new Denque<HeldRecord<I, O>>();

  isEmpty(): boolean {
    return this.head === null;
  }

  addRecord(held: HeldRecord<I, O>): void {
    held.segment = this.tailSegment;
    if (held.segment === this.headSegment) this.headOutstanding++;
    this.link(held);
  }

  addMarker(element: unknown): void {
    this.tailSegment++;
    this.link(new MarkerNode<I, O>(element));
  }

  recordDone(held: HeldRecord<I, O>): void {
    // A record behind a marker stays in the list, done, until its segment becomes the head.
    if (held.segment === this.headSegment) {
      this.headOutstanding--;
      this.ready.push(held);
    }
  }

  flush(out: Emitter<I, O>): void {
    const ready = this.ready;
    while (!out.closed) {
      const done = ready.shift();
      if (done !== undefined) {
        this.unlink(done);
        out.emitRecord(done);
        continue;
      }
      const head = this.head;
      // The head segment is exhausted exactly when none of its records is outstanding; its closing
      // marker (if any) is then the first node.
      if (this.headOutstanding !== 0 || head === null || !head.isMarker) return;
      this.unlink(head);
      this.headSegment++;
      for (let node = this.head as QueueNode<I, O> | null; node !== null && !node.isMarker; node = node.next) {
        if (node.state === DONE) ready.push(node);
        else this.headOutstanding++;
      }
      // The marker goes out before any record of the segment it opens: those wait in `ready`.
      out.emitMarker(head.element);
    }
  }

  forEach(visit: (node: QueueNode<I, O>) => void): void {
    for (let node = this.head; node !== null; node = node.next) visit(node);
  }

  clear(): void {
    this.head = this.tail = null;
    this.ready.clear();
    this.headOutstanding = 0;
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
