// The job's input: click events as NDJSON, generated once per (size, seed) and reused by later runs.
//
// Each event: { id, user, ts, url, dwellMs }. Event time advances by about 1 / EVENTS_PER_SECOND per event.
// - Every event is out of order by up to DISORDER_MS (its ts is drawn behind the stream's clock), which the
//   job's watermark bound (MAX_OUT_OF_ORDERNESS_MS) covers: such events are never late.
// - About LATE_SHARE of the events, once the stream is LATE_MIN_MS old, are very late: LATE_MIN_MS..LATE_MAX_MS
//   behind. Their window has always closed by the time they are read (see docs/main-job.md for the margin),
//   so they go to the job's late side output, in every run, interrupted or not.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { prng } from './random.mjs';
import { USERS } from './users.mjs';

export const EVENTS_PER_SECOND = 20;
export const DISORDER_MS = 5_000;
export const LATE_SHARE = 0.001;
export const LATE_MIN_MS = 30 * 60_000;
export const LATE_MAX_MS = 35 * 60_000;
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

/** The SHA-256 of a file, hex; streamed, so a large input is never held in memory. */
async function sha256Of(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** The facts recorded next to an input, or null when they are missing or unreadable (a kill while writing them). */
function readFacts(factsPath) {
  try {
    const facts = JSON.parse(readFileSync(factsPath, 'utf8'));
    return typeof facts?.sha256 === 'string' && Number.isInteger(facts.bytes) ? facts : null;
  } catch {
    return null;
  }
}

/** Removes temporary files left by generations that were interrupted (their process is gone). */
function removeAbandoned(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const pid = /\.(\d+)\.tmp$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0); // still running: another generation in progress
    } catch {
      rmSync(join(dir, name), { force: true });
    }
  }
}

/**
 * Makes sure the input for (count, seed) exists under `dir`, intact, writing it if needed. The file and its
 * facts (events, very late events, bytes, SHA-256) are written to temporary files renamed into place, so an
 * interrupted generation is never taken for an input. A file that no longer matches its facts (truncated,
 * edited) is written again: the generator is deterministic, so checkpoints taken over the original stay valid.
 * Resolves to its path, its facts, whether it was reused, and what was repaired (a sentence, or null).
 */
export async function ensureInput(dir, count, seed, onProgress = () => {}) {
  const path = inputPath(dir, count, seed);
  const factsPath = `${path}.json`;
  removeAbandoned(dir);
  let repaired = null;
  if (existsSync(path)) {
    const facts = readFacts(factsPath);
    const size = statSync(path).size;
    if (facts !== null && size === facts.bytes && (await sha256Of(path)) === facts.sha256) return { path, ...facts, reused: true, repaired };
    repaired = facts === null
      ? 'its facts file was missing or damaged, so it was generated again'
      : `it had changed since it was generated (${size} bytes and another checksum, against ${facts.bytes}), so it was generated again, identical to the original`;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(temporary);
  const hash = createHash('sha256');
  let lateEvents = 0;
  let bytes = 0;
  let chunk = '';
  const flush = async () => {
    bytes += Buffer.byteLength(chunk);
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  };
  for (const { event, lateSoFar } of clickEvents(count, seed)) {
    chunk += `${JSON.stringify(event)}\n`;
    lateEvents = lateSoFar;
    if (chunk.length >= 1 << 16) {
      await flush();
      onProgress(event.id + 1);
    }
  }
  await flush();
  out.end();
  await once(out, 'finish');
  const facts = { events: count, lateEvents, bytes, seed, sha256: hash.digest('hex') };
  writeFileSync(`${factsPath}.${process.pid}.tmp`, `${JSON.stringify(facts)}\n`);
  renameSync(temporary, path);
  renameSync(`${factsPath}.${process.pid}.tmp`, factsPath);
  return { path, ...facts, reused: false, repaired };
}
