// The job itself: one checkpointable pipeline, from the NDJSON file to the exactly-once FileSink.
//
//   ndjsonSource (byte offsets, read only while the operators have room)
//     -> withWatermarks (event time: the click's ts, 10 s out of order at most)
//     -> asyncBatchUnordered (POST /users:batchGet per batch; retries, a timeout, fallbacks)   [or asyncWaitUnordered
//                                                                                               with --per-record]
//     -> keyedTimers (per country, one-minute tumbling windows: clicks and dwell time; late clicks to a side output)
//     -> FileSink (committed with each checkpoint: exactly once)
import { join } from 'node:path';
import { tap } from 'rxjs';
import {
  asyncBatchMetrics, asyncBatchUnordered, asyncWaitMetrics, asyncWaitUnordered, checkpointable, checkpointMetrics, keyedTimers,
  keyedTimersMetrics, outputTag, sourceMetrics, withWatermarks,
} from 'rxjs-sluice';
import { FileSink, ndjsonSource } from 'rxjs-sluice/node';

export const MINUTE = 60_000;
/** The watermark trails the largest click time by this (the input is at most 5 s out of order). */
export const MAX_OUT_OF_ORDERNESS_MS = 10_000;
/** How often the watermark is emitted, in ms: often, so it never lags far behind the clicks read. */
export const WATERMARK_INTERVAL_MS = 10;
/** Clicks whose window had already been emitted when they arrived. */
export const late = outputTag('late');

/**
 * A click with its user's profile; `country: 'unknown'` when the service does not know the user or gave up
 * (`fallback` then says why). Built field by field rather than spread: a million of them, all the same shape.
 */
export const enrich = (click, profile, fallback) => {
  const enriched = {
    id: click.id, user: click.user, ts: click.ts, url: click.url, dwellMs: click.dwellMs,
    country: profile?.country ?? 'unknown', plan: profile?.plan ?? 'unknown',
  };
  if (fallback) enriched.fallback = fallback;
  return enriched;
};

/** The batch call: one request for the batch's distinct users, each click given its user's profile. */
export const batchLookup = (client, latencies) => async (clicks, { signal }) => {
  const ids = [...new Set(clicks.map((c) => c.user))];
  const startedAt = performance.now();
  const profiles = await client.batchGet(ids, signal);
  latencies.record(performance.now() - startedAt);
  if (!Array.isArray(profiles) || profiles.length !== ids.length) throw new Error(`the service answered ${profiles?.length} profiles for ${ids.length} ids`);
  const byId = new Map(ids.map((id, i) => [id, profiles[i]]));
  return clicks.map((c) => enrich(c, byId.get(c.user)));
};

/** The per-record call: GET /users/<id> for each click. */
export const recordLookup = (client, latencies) => async (click, { signal }) => {
  const startedAt = performance.now();
  const profile = await client.get(click.user, signal);
  latencies.record(performance.now() - startedAt);
  return enrich(click, profile);
};

/** The per-country windows: state is { [windowEnd]: { clicks, dwellMs } } for the country's open windows. */
export const countryWindows = (metrics) => keyedTimers({
  key: (click) => click.country,
  initialState: () => ({}),
  processElement: (click, ctx) => {
    const end = click.ts - (((click.ts % MINUTE) + MINUTE) % MINUTE) + MINUTE;
    // Flink's rule: a window whose last millisecond the watermark has passed has been emitted; a click for it is late.
    if (end - 1 <= ctx.timerService.currentWatermark()) return ctx.output(late, click);
    const windows = ctx.state.value();
    const window = (windows[end] ??= { clicks: 0, dwellMs: 0 });
    window.clicks++;
    window.dwellMs += click.dwellMs;
    ctx.timerService.registerEventTimeTimer(end - 1); // idempotent: one timer per (country, window)
    return undefined;
  },
  onTimer: (time, ctx) => {
    const end = time + 1;
    const windows = ctx.state.value();
    const { clicks, dwellMs } = windows[end];
    delete windows[end];
    if (Object.keys(windows).length === 0) ctx.state.clear();
    return [{ window: new Date(end - MINUTE).toISOString(), country: ctx.key, clicks, dwellMs }];
  },
}, { id: 'windows', requireTimestamps: true, metrics });

/**
 * Builds the job. `settings` are the parsed flags (see args.mjs); `client` talks to the service; `latencies`
 * records each call's latency; `stop` is the notifier of a graceful stop. Returns { output, metrics, progress }:
 * subscribe `output` to run it.
 */
export function buildJob({ settings, inputPath, store, stateDir, client, latencies, stop, onWarning }) {
  const metrics = {
    source: sourceMetrics(), checkpoints: checkpointMetrics(), windows: keyedTimersMetrics(),
    enrich: settings.perRecord ? asyncWaitMetrics() : asyncBatchMetrics(),
  };
  const progress = { watermark: -Infinity, fallbacks: 0 };
  const fallback = (reason) => (click) => {
    progress.fallbacks++;
    return [enrich(click, null, reason)];
  };
  const shared = {
    id: 'enrich',
    timeout: settings.timeout,
    retry: {
      maxRetries: settings.retries,
      delay: { initial: 20, multiplier: 2, max: 1_000 },
      retryOnError: (err) => err?.retryable !== false, // a 4xx is not worth repeating
    },
    onError: (_err, click) => fallback('error')(click),
    onTimeout: fallback('timeout'),
    metrics: metrics.enrich,
    // --adaptive: the calls in flight follow what the service sustains, up to --concurrency (docs/protecting-services.md).
    ...(settings.adaptive === 'off' ? {} : { concurrency: { adaptive: { limiter: settings.adaptive, isOverload: (err) => err?.status === 503 } } }),
  };
  const enrichStage = settings.perRecord
    ? asyncWaitUnordered(recordLookup(client, latencies), { ...shared, capacity: settings.concurrency })
    : asyncBatchUnordered(batchLookup(client, latencies), {
      ...shared, maxBatchSize: settings.batchSize, linger: settings.linger, maxInFlightBatches: settings.concurrency,
    });
  const output = checkpointable({
    source: ndjsonSource(inputPath, { metrics: metrics.source }),
    store,
    sink: new FileSink(join(stateDir, 'output')),
    every: { interval: settings.checkpointMs, ...(settings.checkpointRecords ? { records: settings.checkpointRecords } : {}) },
    metrics: metrics.checkpoints,
    stop,
    onWarning,
  }).pipe(
    withWatermarks({ id: 'watermarks', input: 'elements', timestampOf: (click) => click.ts, maxOutOfOrderness: MAX_OUT_OF_ORDERNESS_MS, interval: WATERMARK_INTERVAL_MS }),
    enrichStage,
    countryWindows(metrics.windows),
    tap((element) => { if (element.kind === 'watermark') progress.watermark = element.timestamp; }),
  );
  return { output, metrics, progress };
}
