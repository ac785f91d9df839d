import fc from 'fast-check';
import { ChunkQueue } from '../../src/shared/chunkQueue';

/**
 * ChunkQueue is internal (it holds an async-wait operator's inputs beyond capacity), so it is checked directly
 * against an array model: any sequence of pushes, shifts, visits, clears and back replacements, across many chunk
 * boundaries.
 */
type Op =
  | { kind: 'push'; count: number } | { kind: 'shift'; count: number } | { kind: 'visit'; stopAfter: number } | { kind: 'clear' }
  | { kind: 'replaceBack' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), count: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('shift' as const), count: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('visit' as const), stopAfter: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'replaceBack' as const }) },
);

describe('ChunkQueue', () => {
  it('behaves as a FIFO array for any sequence of operations, across chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        // Arrange: the model is an array read from `head`, so the check itself stays linear
        const queue = new ChunkQueue<number>();
        const model: number[] = [];
        let head = 0;
        let next = 0;
        // Act / Assert after every step (plain comparisons: one expect() per item made this suite take 30 s)
        for (const step of ops) {
          if (step.kind === 'push') {
            for (let i = 0; i < step.count; i++) {
              queue.push(next);
              model.push(next++);
            }
          } else if (step.kind === 'shift') {
            for (let i = 0; i < step.count; i++) {
              const expected = head < model.length ? model[head++] : undefined;
              const actual = queue.shift();
              if (actual !== expected) expect({ shifted: actual }).toEqual({ shifted: expected });
            }
          } else if (step.kind === 'visit') {
            const seen: number[] = [];
            queue.visit((item) => {
              seen.push(item);
              return seen.length < step.stopAfter;
            });
            // visit sees the item that returns false, so at least one when there is one
            expect(seen).toEqual(model.slice(head, head + Math.max(1, step.stopAfter)));
          } else if (step.kind === 'replaceBack') {
            // Only on a non-empty queue (its contract); the new back item is a fresh value.
            if (head < model.length) {
              queue.replaceBack(next);
              model[model.length - 1] = next++;
            }
          } else {
            queue.clear();
            model.length = 0;
            head = 0;
          }
          const length = model.length - head;
          const back = length === 0 ? undefined : model[model.length - 1];
          if (queue.length !== length || queue.isEmpty() !== (length === 0) || queue.peekFront() !== model[head] || queue.peekBack() !== back) {
            expect({ length: queue.length, isEmpty: queue.isEmpty(), front: queue.peekFront(), back: queue.peekBack() })
              .toEqual({ length, isEmpty: length === 0, front: model[head], back });
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('returns undefined from shift and peekFront when empty, and keeps working afterwards', () => {
    // Arrange
    const queue = new ChunkQueue<string>();
    // Act / Assert
    expect(queue.shift()).toBeUndefined();
    expect(queue.peekFront()).toBeUndefined();
    expect(queue.peekBack()).toBeUndefined();
    for (let i = 0; i < 2500; i++) queue.push(`v${i}`);
    for (let i = 0; i < 2500; i++) expect(queue.shift()).toBe(`v${i}`);
    expect(queue.shift()).toBeUndefined();
    queue.push('again');
    expect(queue.peekFront()).toBe('again');
    expect(queue.length).toBe(1);
  });

  it('holds undefined as an item, told apart by length', () => {
    // Arrange
    const queue = new ChunkQueue<undefined | number>();
    // Act
    queue.push(undefined);
    queue.push(1);
    // Assert
    expect(queue.length).toBe(2);
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(1);
    expect(queue.shift()).toBe(1);
  });
});
