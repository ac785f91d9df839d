/**
 * jsonCodec's graph form: the text for a value that plain JSON would change (shared objects, cycles, -0,
 * null-prototype objects) or that is nested too deeply for JSON.stringify. Every array and object is listed
 * once, as a flat node, and refers to others by index, so neither writing nor reading recurses:
 *
 *   #{"graph":1,"root":R,"nodes":[N0,N1,...]}
 *   N = ["a", v, ...]         an array and its elements
 *     | ["o", key, v, ...]    an object with Object.prototype, its own keys and values in order
 *     | ["n", key, v, ...]    the same with a null prototype
 *   v, R = a string, boolean, null or number (not -0), [i] for node i, or ["-0"]
 *
 * The leading '#' cannot start JSON text, so plain JSON and the graph form never collide.
 */

/** What the graph form starts with. */
export const GRAPH_MARK = '#';

/** A value inside the graph form. */
type GraphValue = string | number | boolean | null | [number] | ['-0'];

/** The graph form, before JSON.stringify. */
interface GraphText {
  readonly graph: 1;
  readonly root: GraphValue;
  readonly nodes: unknown[][];
}

/**
 * Lists a value's arrays and objects as nodes, each once, in the order they are first reached (breadth-first).
 * `root` must be a faithful copy made by the codec: plain arrays and objects with data properties only.
 */
export function writeGraph(root: unknown): GraphText {
  /** The arrays and objects by node index; grows while the nodes are written. */
  const objects: object[] = [];
  /** Each array or object's reference `[index]`, one array per node, shared by every reference to it. */
  const refs = new Map<object, [number]>();
  const valueOf = (value: unknown): GraphValue => {
    if (value === null || typeof value !== 'object') {
      return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : (value as string | number | boolean);
    }
    let ref = refs.get(value);
    if (ref === undefined) {
      ref = [objects.length];
      refs.set(value, ref);
      objects.push(value);
    }
    return ref;
  };
  const rootValue = valueOf(root);
  const nodes: unknown[][] = [];
  for (let i = 0; i < objects.length; i++) {
    const object = objects[i]!;
    if (Array.isArray(object)) {
      const node: unknown[] = ['a'];
      for (const element of object) node.push(valueOf(element));
      nodes.push(node);
    } else {
      const node: unknown[] = [Object.getPrototypeOf(object) === null ? 'n' : 'o'];
      // An own '__proto__' data property shadows the inherited accessor, so reading it by name is safe.
      for (const key of Object.keys(object)) node.push(key, valueOf((object as Record<string, unknown>)[key]));
      nodes.push(node);
    }
  }
  return { graph: 1, root: rootValue, nodes };
}

/** How -0 is written (one array, shared). */
const NEGATIVE_ZERO: ['-0'] = ['-0'];

/** Rebuilds a value from the JSON after GRAPH_MARK: every node first (empty), then their contents. */
export function readGraph(json: string): unknown {
  const parsed: unknown = JSON.parse(json);
  const text = parsed as Partial<Record<string, unknown>> | null;
  if (text === null || typeof text !== 'object' || Array.isArray(text) || text['graph'] !== 1 || !Array.isArray(text['nodes'])) {
    throw malformed('expected {"graph":1,"root":...,"nodes":[...]}');
  }
  const specs = text['nodes'] as unknown[];
  const objects = specs.map((spec, i): unknown[] | Record<string, unknown> => {
    if (!Array.isArray(spec)) throw malformed(`node ${i} is not an array`);
    switch (spec[0]) {
      case 'a':
        return [];
      case 'o':
      case 'n':
        if (spec.length % 2 !== 1) throw malformed(`node ${i} has a key without a value`);
        return spec[0] === 'o' ? {} : (Object.create(null) as Record<string, unknown>);
      default:
        throw malformed(`node ${i} has no kind ("a", "o" or "n")`);
    }
  });
  const resolve = (value: unknown, where: string): unknown => {
    if (!Array.isArray(value)) {
      if (value === null || typeof value !== 'object') return value; // JSON.parse yields only JSON primitives here
    } else if (value.length === 1) {
      const [tag] = value as unknown[];
      if (tag === '-0') return -0;
      if (typeof tag === 'number' && Number.isInteger(tag) && tag >= 0 && tag < objects.length) return objects[tag];
    }
    throw malformed(`${where} is neither a JSON primitive, [node index] nor ["-0"]`);
  };
  specs.forEach((spec, i) => {
    const node = spec as unknown[];
    const object = objects[i]!;
    if (Array.isArray(object)) {
      for (let j = 1; j < node.length; j++) object.push(resolve(node[j], `node ${i} entry ${j}`));
      return;
    }
    for (let j = 1; j < node.length; j += 2) {
      const key = node[j];
      if (typeof key !== 'string') throw malformed(`node ${i} has a key that is not a string`);
      if (Object.prototype.hasOwnProperty.call(object, key)) throw malformed(`node ${i} repeats the key ${JSON.stringify(key)}`);
      const value = resolve(node[j + 1], `node ${i} entry ${j + 1}`);
      // Assigning '__proto__' would set the prototype of a plain object: define it as an own property instead.
      if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    }
  });
  return resolve(text['root'], 'root');
}

function malformed(what: string): SyntaxError {
  return new SyntaxError(`jsonCodec: malformed graph text: ${what}`);
}
