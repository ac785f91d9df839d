/**
 * asyncWaitKeyed against asyncWaitOrdered and asyncWaitUnordered as a marble scenario: checked by
 * asyncWaitKeyed.marbles.spec.ts, drawn into docs/marbles/ by `npm run docs:marbles`, and shown in docs/keyed.md.
 * Every character is 1 ms of virtual time. The records' values carry their key in the tens: a = 11 and c = 12
 * are key 1, b = 21 is key 2.
 */
import { map, timer, type Observable } from 'rxjs';
import { asyncWaitKeyed, asyncWaitOrdered, asyncWaitUnordered } from 'rxjs-sluice';
import { type MarbleScenario } from './support/scenario';

/** An async call for x that answers x after delays[x] ms. */
const answerAfter = (delays: Record<number, number>) => (x: number): Observable<number> => timer(delays[x]!).pipe(map(() => x));

// The three orders side by side. a (key 1) takes 8 ms, b (key 2) 1 ms, c (key 1) 3 ms. Ordered: b and c wait for a.
// Unordered: c (started at 4) passes a, an earlier record of its own key. Keyed: b leaves when done; c waits for a
// (key 1): it starts at 8 and ends at 11.
export const orderedUnorderedKeyed: MarbleScenario = {
  name: 'keyed-three-orders',
  title: 'Ordered, unordered and keyed (a and c: key 1; b: key 2)',
  operator: 'asyncWait Ordered | Unordered | Keyed   (a: 8 ms, b: 1 ms, c: 3 ms)',
  inputs: [{ label: 'input', marble: 'a-b-c---------|', legend: 'a=11 b=21 c=12' }],
  outputs: [
    { label: 'ordered', marble: '--------(abc)-|', legend: 'a=11 b=21 c=12' },
    { label: 'unordered', marble: '---b---ca-----|', legend: 'a=11 b=21 c=12' },
    { label: 'keyed', marble: '---b----a--c--|', legend: 'a=11 b=21 c=12' },
  ],
  run: ([input]) => {
    const fn = answerAfter({ 11: 8, 21: 1, 12: 3 });
    const key = (x: number): number => Math.floor(x / 10);
    return [input!.pipe(asyncWaitOrdered(fn)), input!.pipe(asyncWaitUnordered(fn)), input!.pipe(asyncWaitKeyed(fn, { key }))];
  },
};

/** Every asyncWaitKeyed scenario, in the order the docs show them. */
export const ASYNC_WAIT_KEYED_SCENARIOS: readonly MarbleScenario[] = [orderedUnorderedKeyed];
