/**
 * A small SVG writer for the drawings in docs/: elements as text, numbers rounded so that the output is the same
 * on every machine, and nothing else. Dependency-free on purpose: the drawings are compared byte for byte with
 * the committed files (marbles/diagrams.spec.ts), so their text must depend only on this code.
 */

/** Attribute values: numbers are rounded to 0.1. */
export type Attributes = Readonly<Record<string, string | number | undefined>>;

/** Escapes text for XML. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A number as SVG text: at most one decimal, no trailing `.0`. */
export const num = (n: number): string => String(Math.round(n * 10) / 10);

/** One element: `<name attrs/>` or `<name attrs>children</name>`. */
export function tag(name: string, attributes: Attributes, ...children: string[]): string {
  const attrs = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v!)}"`)
    .join('');
  return children.length === 0 ? `<${name}${attrs}/>` : `<${name}${attrs}>${children.join('')}</${name}>`;
}

/** A text element. */
export const text = (x: number, y: number, content: string, attributes: Attributes = {}): string =>
  tag('text', { x, y, ...attributes }, escapeXml(content));

/** A whole document: the XML declaration, the svg element with a white background, a title, the parts. */
export function svgDocument(width: number, height: number, title: string, parts: readonly string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    tag('title', {}, escapeXml(title)),
    tag('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** An arrow head at (x, y) pointing right or down. */
export function arrowHead(x: number, y: number, direction: 'right' | 'down', color: string): string {
  const points = direction === 'right' ? [[x, y], [x - 8, y - 4], [x - 8, y + 4]] : [[x, y], [x - 4, y - 8], [x + 4, y - 8]];
  return tag('polygon', { points: points.map(([px, py]) => `${num(px!)},${num(py!)}`).join(' '), fill: color });
}
