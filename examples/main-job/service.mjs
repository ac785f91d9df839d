// The lookup service the job enriches from: a real HTTP server on 127.0.0.1, in its own process.
//
//   POST /users:batchGet  {"ids":[1,2,…]}  -> 200 {"users":[profile | null, …]}  (same length and order as ids;
//                                              null for an unknown id; at most MAX_BATCH ids, else 400)
//   GET  /users/<id>                       -> 200 profile, or 404 for an unknown id
//   GET  /stats                            -> 200 the service's own counters
//
// Like a real backend it takes time per request (the `latency` option, ±25%), answers some requests slowly
// (`slowRate`, `slowMs` more), and fails some with 503 (`failureRate`). A malformed request gets 400.
// Run alone: `node examples/main-job/service.mjs [--port 8080]`. The job starts it with `startServiceProcess`.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { prng } from './random.mjs';
import { userProfile } from './users.mjs';

export const MAX_BATCH = 1_000;
const MAX_BODY = 1 << 20;

/** @default values of the service's options. */
export const SERVICE_DEFAULTS = { latency: 2, failureRate: 0.01, slowRate: 0.005, slowMs: 100, seed: 7 };

/** The answer to one request: [status, body]. Pure, so its contract is easy to test. */
export function answer(method, url, body) {
  if (method === 'POST' && url === '/users:batchGet') {
    let request;
    try {
      request = JSON.parse(body);
    } catch {
      return [400, { error: 'the body is not JSON' }];
    }
    const ids = request?.ids;
    if (!Array.isArray(ids)) return [400, { error: 'expected {"ids": [...]}' }];
    if (ids.length === 0 || ids.length > MAX_BATCH) return [400, { error: `expected 1 to ${MAX_BATCH} ids, got ${ids.length}` }];
    if (!ids.every((id) => Number.isSafeInteger(id))) return [400, { error: 'every id must be an integer' }];
    return [200, { users: ids.map(userProfile) }];
  }
  const one = method === 'GET' && /^\/users\/(\d{1,15})$/.exec(url);
  if (one) {
    const profile = userProfile(Number(one[1]));
    return profile ? [200, profile] : [404, { error: `no user ${one[1]}` }];
  }
  if (method === 'GET' && url.startsWith('/users/')) return [400, { error: 'expected /users/<integer id>' }];
  return [404, { error: `no route ${method} ${url}` }];
}

/**
 * Starts the service in this process. Resolves to { port, stats, close }.
 * Options: latency (ms per request), failureRate, slowRate, slowMs, seed, port (0: any free port).
 */
export function startService(options = {}) {
  const { latency, failureRate, slowRate, slowMs, seed } = { ...SERVICE_DEFAULTS, ...options };
  const random = prng(seed);
  const stats = { requests: 0, batchRequests: 0, itemRequests: 0, ids: 0, failed: 0, slow: 0, badRequests: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      stats.requests++;
      const reply = (status, value) => {
        const text = JSON.stringify(value);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.url === '/stats') return reply(200, stats);
      const [status, value] = answer(req.method, req.url, Buffer.concat(chunks).toString('utf8'));
      if (status === 400) stats.badRequests++;
      else if (req.method === 'POST') { stats.batchRequests++; stats.ids += value.users?.length ?? 0; } else stats.itemRequests++;
      const slow = random() < slowRate;
      if (slow) stats.slow++;
      const delay = latency * (0.75 + random() / 2) + (slow ? slowMs : 0);
      const fails = status !== 400 && random() < failureRate;
      setTimeout(() => {
        if (fails) {
          stats.failed++;
          reply(503, { error: 'service unavailable, try again' });
        } else reply(status, value);
      }, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve({
      port: server.address().port,
      stats,
      close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
    }));
  });
}

/**
 * Starts the service in a child process and resolves to { url, stop, stats }. The child exits when this process
 * does, even on SIGKILL: it watches its IPC channel, which closes when the parent dies.
 */
export function startServiceProcess(options = {}) {
  const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the lookup service exited with code ${code} before it listened`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      const request = (id) => new Promise((answered) => {
        const onMessage = (message) => { if (message.id === id) { child.off('message', onMessage); answered(message.stats); } };
        child.on('message', onMessage);
        child.send({ stats: id });
      });
      let asked = 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        pid: child.pid,
        stats: () => request(++asked),
        stop: () => new Promise((stopped) => {
          if (child.exitCode !== null) return stopped();
          child.once('exit', () => stopped());
          child.disconnect();
        }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child') {
    const service = await startService(JSON.parse(process.argv[3]));
    process.on('message', (message) => process.send({ id: message.stats, stats: service.stats }));
    process.on('disconnect', () => process.exit(0)); // the parent stopped us, or died
    process.on('SIGINT', () => {}); // Ctrl-C reaches the whole process group: the job decides when this stops
    process.send({ port: service.port });
  } else {
    const at = process.argv.indexOf('--port');
    const service = await startService({ port: at > 0 ? Number(process.argv[at + 1]) : 8080 });
    console.log(`lookup service on http://127.0.0.1:${service.port} (POST /users:batchGet, GET /users/<id>, GET /stats)`);
  }
}
