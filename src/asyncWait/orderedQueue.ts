import Denque from 'denque';
import { type Watermark } from '../elements/streamElement.js';
import { type Emitter, type HeldQueue } from './emitter.js';
import { DONE, MarkerNode, type HeldRecord, type QueueNode } from './heldRecord.js';

/**
 * Ordered emission (Flink's `OrderedStreamElementQueue`): one FIFO of records and markers; only the head
 * may leave, and a record only once it is done. Every operation is O(1).
 */
export class OrderedQueue<I, O> implements HeldQueue<I, O> {
  /** Records and markers in input order; emptied on clear(). */
  private readonly nodes = new Denque<QueueNode<I, O>>();

  isEmpty(): boolean {
    return this.nodes.length === 0;
  }

  addRecord(held: HeldRecord<I, O>): void {
    this.nodes.push(held);
  }

  addMarker(element: unknown): void {
    this.nodes.push(new MarkerNode<I, O>(element));
  }

  addWatermark(mark: Watermark): boolean {
    // A marker at the tail has not been emitted: flush() shifts a node out before emitting it.
    const tail = this.nodes.peekBack();
    if (tail !== undefined && tail.isMarker && tail.absorb(mark)) return true;
    this.nodes.push(new MarkerNode<I, O>(mark));
    return false;
  }

  recordDone(): void {
    // Nothing to do: flush() looks at the head, and a done record behind it keeps waiting.
  }

  flush(out: Emitter<I, O>): void {
    const nodes = this.nodes;
    while (!out.closed) {
      const head = nodes.peekFront();
      if (head === undefined) return;
      if (head.isMarker) {
        nodes.shift(); // denque: O(1)
        out.emitMarker(head.element);
      } else {
        if (head.state !== DONE) return;
        nodes.shift(); // denque: O(1)
        // emitRecord may admit queued inputs (pushed at the tail) or re-enter through a synchronous
        // downstream; the loop re-reads the head each time, so both are safe.
        out.emitRecord(head);
      }
    }
  }

  forEach(visit: (node: QueueNode<I, O>) => void): void {
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) visit(nodes.peekAt(i)!);
  }

  clear(): void {
    this.nodes.clear(); // ordered nodes are not linked to each other: dropping them is enough
  }
}
