// The job's input: click events as NDJSON, generated once per (size, seed) and reused by later runs.
//
// Each event: { id, user, ts, url, dwellMs }. Event time advances by about 1 / EVENTS_PER_SECOND per event.
// - Every event is out of order by up to DISORDER_MS (its ts is drawn behind the stream's clock), which the
//   job's watermark bound (MAX_OUT_OF_ORDERNESS_MS) covers: such events are never late.
// - About LATE_SHARE of the events, once the stream is LATE_MIN_MS old, are very late: LATE_MIN_MS..LATE_MAX_MS
//   behind. Their window has always closed by the time they are read (see docs/main-job.md for the margin),
//   so they go to the job's late side output, in every run, interrupted or not.
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { prng } from './random.mjs';
import { USERS } from './users.mjs';

export const EVENTS_PER_SECOND = 20;
export const DISORDER_MS = 5_000;
export const LATE_SHARE = 0.001;
export const LATE_MIN_MS = 10 * 60_000;
export const LATE_MAX_MS = 12 * 60_000;
/** 2026-01-01T00:00:00Z: where the stream's event time starts. */
export const START_TS = Date.UTC(2026, 0, 1);
const PAGES = ['/', '/search', '/cart', '/checkout', '/help', '/account'];

/** The events of an input, one at a time (a generator, so a large input never sits in memory). */
export function* clickEvents(count, seed) {
  const random = prng(seed);
  let late = 0; // very late events so far
  for (let id = 0; id < count; id++) {
    const clock = START_TS + Math.floor((id * 1000) / EVENTS_PER_SECOND);
    // A skewed user popularity: a few users click a lot, as on any site.
    const user = 1 + Math.floor(USERS * random() ** 3);
    const isLate = clock - START_TS >= LATE_MIN_MS && random() < LATE_SHARE;
    const behind = isLate ? LATE_MIN_MS + Math.floor(random() * (LATE_MAX_MS - LATE_MIN_MS)) : Math.floor(random() * DISORDER_MS);
    if (isLate) late++;
    const page = PAGES[Math.floor(random() * PAGES.length)];
    const url = page === '/search' ? `/search?q=item${Math.floor(random() * 1000)}` : page === '/' ? '/' : `${page}/${Math.floor(random() * 100)}`;
    yield { event: { id, user, ts: clock - behind, url, dwellMs: 200 + Math.floor(random() * 30_000) }, late: isLate, lateSoFar: late };
  }
}

/** The path of the input for (count, seed) under `dir`. */
export const inputPath = (dir, count, seed) => join(dir, `clicks-${count}-gen${seed}.ndjson`);

/**
 * Makes sure the input for (count, seed) exists under `dir`, writing it if needed (to a temporary file renamed
 * into place, so an interrupted generation is never taken for an input). Resolves to its path and its facts:
 * how many events, how many of them very late, its size in bytes, and whether it was reused.
 */
export async function ensureInput(dir, count, seed, onProgress = () => {}) {
  const path = inputPath(dir, count, seed);
  const factsPath = `${path}.json`;
  if (existsSync(path) && existsSync(factsPath)) return { path, ...JSON.parse(readFileSync(factsPath, 'utf8')), reused: true };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(temporary);
  let lateEvents = 0;
  let bytes = 0;
  let chunk = '';
  for (const { event, lateSoFar } of clickEvents(count, seed)) {
    chunk += `${JSON.stringify(event)}\n`;
    lateEvents = lateSoFar;
    if (chunk.length >= 1 << 16) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
      onProgress(event.id + 1);
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.end(chunk);
  await once(out, 'finish');
  renameSync(temporary, path);
  const facts = { events: count, lateEvents, bytes, seed };
  writeFileSync(factsPath, `${JSON.stringify(facts)}\n`);
  return { path, ...facts, reused: false };
}
