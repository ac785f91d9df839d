/** Renders a value for an error message: short, and never throwing. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  try {
    const json = JSON.stringify(value);
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    // A Set, a Map or a class instance with no enumerable fields says what it is, not '{}'.
    if (json === '{}' && name !== undefined && name !== 'Object') return `a ${name}`;
    if (json !== undefined) return json.length > 80 ? json.slice(0, 77) + '...' : json;
  } catch {
    // cyclic or otherwise unserialisable: fall through to the constructor name
  }
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : 'an object';
}
