/** A key of keyed state and timers: Flink's current key. */
export type TimerKey = string | number;

/** One registered timer. `position` is its slot in the heap array, kept current by every move. */
export interface TimerNode<K extends TimerKey> {
  readonly key: K;
  readonly timestamp: number;
  /** Registration order: breaks ties between timers with the same timestamp. */
  readonly seq: number;
  position: number;
}

/**
 * The timers of one time domain: a binary min-heap ordered by (timestamp, registration order), plus an index
 * from (key, timestamp) to the heap node. That is Flink's `HeapPriorityQueueSet`: register, delete and poll
 * are O(log n), lookups O(1), and nothing ever scans all keys or all timers.
 *
 * The index keeps a key's only timer inline and switches to a per-key Map from its second timer on, so the
 * common case (one timer per key) costs one heap node and one index entry.
 */
export class TimerQueue<K extends TimerKey> {
  /** The heap, by (timestamp, seq); emptied by clear(). */
  private heap: TimerNode<K>[] = [];
  /** (key, timestamp) -> node: the node itself for a key's only timer, else a Map by timestamp. Emptied by clear(). */
  private index = new Map<K, TimerNode<K> | Map<number, TimerNode<K>>>();
  /** The next registration number. Never reset, so order stays total across clear(). */
  private nextSeq = 0;

  /** How many timers are registered. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest timer, or undefined. */
  peek(): TimerNode<K> | undefined {
    return this.heap[0];
  }

  /** Registers a timer. Returns false, changing nothing, when (key, timestamp) is already registered. */
  add(key: K, timestamp: number): boolean {
    const slot = this.index.get(key);
    if (slot !== undefined) {
      if (slot instanceof Map) {
        if (slot.has(timestamp)) return false;
      } else {
        if (slot.timestamp === timestamp) return false;
      }
    }
    const node: TimerNode<K> = { key, timestamp, seq: this.nextSeq++, position: this.heap.length };
    if (slot === undefined) {
      this.index.set(key, node);
    } else if (slot instanceof Map) {
      slot.set(timestamp, node);
    } else {
      this.index.set(key, new Map([[slot.timestamp, slot], [timestamp, node]]));
    }
    this.heap.push(node);
    this.siftUp(node.position);
    return true;
  }

  /** Deletes a timer. Returns false when (key, timestamp) is not registered. */
  remove(key: K, timestamp: number): boolean {
    const node = this.unindex(key, timestamp);
    if (node === undefined) return false;
    this.removeAt(node.position);
    return true;
  }

  /** Removes and returns the earliest timer, or undefined. */
  poll(): TimerNode<K> | undefined {
    const head = this.heap[0];
    if (head === undefined) return undefined;
    this.unindex(head.key, head.timestamp);
    this.removeAt(0);
    return head;
  }

  /** Every timer as [key, timestamp], in firing order: a snapshot that restores to the same order. O(n log n). */
  entries(): [K, number][] {
    return this.heap.slice().sort((a, b) => (before(a, b) ? -1 : 1)).map((node) => [node.key, node.timestamp]);
  }

  /** Drops every timer. */
  clear(): void {
    this.heap = [];
    this.index = new Map();
  }

  private unindex(key: K, timestamp: number): TimerNode<K> | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    if (!(slot instanceof Map)) {
      if (slot.timestamp !== timestamp) return undefined;
      this.index.delete(key);
      return slot;
    }
    const node = slot.get(timestamp);
    if (node === undefined) return undefined;
    slot.delete(timestamp);
    if (slot.size === 1) this.index.set(key, slot.values().next().value!); // back to the inline form
    return node;
  }

  private removeAt(position: number): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (position === heap.length) return; // it was the last slot
    heap[position] = last;
    last.position = position;
    this.siftDown(position);
    this.siftUp(last.position);
  }

  private siftUp(position: number): void {
    const heap = this.heap;
    const node = heap[position]!;
    while (position > 0) {
      const parentPosition = (position - 1) >> 1;
      const parent = heap[parentPosition]!;
      if (!before(node, parent)) break;
      heap[position] = parent;
      parent.position = position;
      position = parentPosition;
    }
    heap[position] = node;
    node.position = position;
  }

  private siftDown(position: number): void {
    const heap = this.heap;
    const length = heap.length;
    const node = heap[position]!;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right]!, heap[left]!) ? right : left;
      const smallest = heap[child]!;
      if (!before(smallest, node)) break;
      heap[position] = smallest;
      smallest.position = position;
      position = child;
    }
    heap[position] = node;
    node.position = position;
  }
}

/** Heap order: earlier timestamp first, then earlier registration. */
function before<K extends TimerKey>(a: TimerNode<K>, b: TimerNode<K>): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}
