// The main example: enrich a stream of click events by calling a flaky, slow "user service",
// at most 8 calls at a time, with retries, a time budget and fallbacks, keeping event time intact.
// Run it with `npm run example` (it builds the package first, then imports it by name).
import { from, interval, map, takeWhile } from 'rxjs';
import { asyncWaitMetrics, asyncWaitOrdered, isWatermark, record, watermark } from 'rxjs-sluice';

// A fake remote service: 5-60 ms latency, fails 20% of the time, honours the abort signal.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
function fetchUser(id, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (random() < 0.2 ? reject(new Error(`503 for user ${id}`)) : resolve({ id, name: `user-${id}` })), 5 + random() * 55);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

// 40 clicks with event timestamps, and a watermark after every 10.
const clicks = Array.from({ length: 40 }, (_, i) => ({ user: i % 7, at: 1_000 + i * 100 }));
const elements = clicks.flatMap((c, i) => ((i + 1) % 10 === 0 ? [record(c, c.at), watermark(c.at)] : [record(c, c.at)]));

const metrics = asyncWaitMetrics();
const enriched = from(elements).pipe(
  asyncWaitOrdered((click, { signal }) => fetchUser(click.user, signal).then((user) => ({ ...click, name: user.name })), {
    capacity: 8,
    timeout: 150, // total budget per click, retries included
    retry: { maxRetries: 3, delay: { initial: 10, multiplier: 2, max: 40 } },
    onError: (err, click) => [{ ...click, name: 'unknown (gave up)' }],
    onTimeout: (click) => [{ ...click, name: 'unknown (too slow)' }],
    metrics,
  }),
);

const progress = interval(50).pipe(map(() => metrics.snapshot()), takeWhile((m) => m.emitted < clicks.length));
const bar = progress.subscribe((m) => console.log(`  progress: ${m.emitted}/${clicks.length} out, ${m.inFlight} in flight, ${m.buffered} queued, ${m.retried} retries`));

enriched.subscribe({
  next: (el) => console.log(isWatermark(el) ? `-- watermark ${el.timestamp} --` : `${el.timestamp}  user ${el.value.user} -> ${el.value.name}`),
  complete: () => {
    bar.unsubscribe();
    console.log('done:', metrics.snapshot());
  },
});
