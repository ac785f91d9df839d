// The job's side of the lookup service: node:http with keep-alive connections, one per call in flight.
import { Agent, request } from 'node:http';

/** A non-2xx answer. `retryable` for 5xx and 429: worth another attempt; a 4xx is the caller's fault. */
export class ServiceError extends Error {
  constructor(status, body, what) {
    super(`${what}: HTTP ${status} ${body}`);
    this.name = 'ServiceError';
    this.status = status;
    this.retryable = status >= 500 || status === 429;
  }
}

/** A client for the service at `baseUrl`, keeping up to `connections` sockets open. */
export function serviceClient(baseUrl, connections) {
  const { hostname, port } = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const call = (method, path, body, signal) => new Promise((resolve, reject) => {
    const req = request({ agent, hostname, port, method, path, signal, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(JSON.parse(text));
        else reject(new ServiceError(res.statusCode, text, `${method} ${path}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject); // includes the AbortError of an aborted signal
    req.end(body);
  });
  return {
    /** The profiles of `ids` (null for an unknown id), in the same order. */
    batchGet: async (ids, signal) => (await call('POST', '/users:batchGet', JSON.stringify({ ids }), signal)).users,
    /** One profile; null for an unknown id. */
    get: (id, signal) => call('GET', `/users/${id}`, undefined, signal).catch((err) => {
      if (err instanceof ServiceError && err.status === 404) return null;
      throw err;
    }),
    close: () => agent.destroy(),
  };
}
