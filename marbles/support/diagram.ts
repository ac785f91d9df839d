/**
 * Draws a recorded marble scenario as an SVG: input lanes, the operator box, output lanes, a time axis and the
 * legend of each lane. Records are blue circles, watermarks green diamonds on a dashed line, barriers red bars,
 * side outputs amber dashed squares, plain values grey circles; `|` is a black bar, an error a red cross.
 */
import { isElement, writeValue } from '../../src/testing/elementSpec';
import { Lettering, byFrame, type MarbleFrame, type MarbleNotification } from '../../src/testing/marbleText';
import { legend as readLegend } from 'rxjs-sluice/testing';
import { type Lane, type MarbleScenario, type RecordedScenario } from './scenario';
import { arrowHead, svgDocument, tag, text } from './svg';

const LABEL_RIGHT = 128; // lane labels end here
const X0 = 140; // the timeline starts here
const ITEM = 26; // the width of one drawn element
const UNIT = 26; // pixels per frame, up to MAX_GAP
const MAX_GAP = 110; // a longer silence is drawn this wide, with a break mark on the axis
const LANE_H = 48;
const MONO = 'Menlo, Consolas, monospace';
const CHAR_W = 6.7; // an estimate of the monospace width at 11 px, to wrap the legend
const OPERATOR_CHAR_W = 7.3; // the same at 12 px, the operator box's text: the box (and the drawing) widen to hold it

/** Where each frame is drawn: every frame of every lane gets a column, wide enough for its largest group. */
function columns(lanes: readonly MarbleFrame[][]): { x: Map<number, number>; breaks: number[]; end: number } {
  const counts = new Map<number, number>();
  for (const lane of lanes) for (const [frame, list] of byFrame(lane)) counts.set(frame, Math.max(counts.get(frame) ?? 0, list.length));
  const x = new Map<number, number>();
  const breaks: number[] = [];
  let prevFrame = 0;
  let prevX = X0 + 16;
  let prevSlot = 0;
  for (const frame of [...counts.keys()].sort((a, b) => a - b)) {
    const gap = (frame - prevFrame) * UNIT;
    if (gap > MAX_GAP) breaks.push(prevX + Math.max(prevSlot, MAX_GAP) / 2);
    const at = prevX + Math.max(prevSlot, Math.min(gap, MAX_GAP));
    x.set(frame, at);
    prevFrame = frame;
    prevX = at;
    prevSlot = counts.get(frame)! * ITEM;
  }
  return { x, breaks, end: prevX + prevSlot + 24 };
}

/** A time as the axis writes it. */
const timeLabel = (frame: number): string => (frame >= 1000 && frame % 1000 === 0 ? `${frame / 1000} s` : `${frame}`);

/** Draws one notification centred at (x, y). */
function shape(n: MarbleNotification, x: number, y: number, letters: Lettering, plain: boolean): string {
  if (n.kind === 'C') return tag('line', { x1: x, y1: y - 13, x2: x, y2: y + 13, stroke: '#111111', 'stroke-width': 2.5 });
  if (n.kind === 'E') {
    return tag('g', { stroke: '#b91c1c', 'stroke-width': 2.5 },
      tag('line', { x1: x - 7, y1: y - 7, x2: x + 7, y2: y + 7 }), tag('line', { x1: x - 7, y1: y + 7, x2: x + 7, y2: y - 7 }));
  }
  const letter = plain ? writeValue(n.value) : letters.letterOf(n.value);
  const label = (color = '#111111') => text(x, y + 4, letter, { 'text-anchor': 'middle', 'font-weight': 'bold', fill: color });
  const kind = !plain && isElement(n.value) ? n.value.kind : 'plain';
  switch (kind) {
    case 'record':
      return tag('g', {}, tag('circle', { cx: x, cy: y, r: 11, fill: '#dbeafe', stroke: '#1e40af', 'stroke-width': 1.5 }), label());
    case 'watermark':
      return tag('g', {},
        tag('line', { x1: x, y1: y - 20, x2: x, y2: y + 20, stroke: '#15803d', 'stroke-width': 1.5, 'stroke-dasharray': '3,2' }),
        tag('polygon', { points: `${x},${y - 12} ${x + 12},${y} ${x},${y + 12} ${x - 12},${y}`, fill: '#dcfce7', stroke: '#15803d', 'stroke-width': 1.5 }),
        label());
    case 'barrier':
      return tag('g', {}, tag('rect', { x: x - 4, y: y - 18, width: 8, height: 36, fill: '#b91c1c' }),
        text(x, y - 22, letter, { 'text-anchor': 'middle', 'font-weight': 'bold', fill: '#b91c1c' }));
    case 'sideOutput':
      return tag('g', {},
        tag('rect', { x: x - 10, y: y - 10, width: 20, height: 20, rx: 3, fill: '#fef3c7', stroke: '#b45309', 'stroke-width': 1.5, 'stroke-dasharray': '3,2' }),
        label());
    default:
      return tag('g', {}, tag('circle', { cx: x, cy: y, r: 11, fill: '#f3f4f6', stroke: '#6b7280', 'stroke-width': 1.5 }), label());
  }
}

/** The letters of a lane, seeded with the ones its marble's legend uses. */
function letteringOf(lane: Lane): Lettering {
  const letters = new Lettering();
  if (!lane.plain) for (const [letter, element] of Object.entries(readLegend(lane.legend))) letters.seed(letter, element);
  return letters;
}

/** Splits a legend into lines of at most `width` characters, at entry boundaries. */
function wrapLegend(prefix: string, legendText: string, width: number): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const entry of legendText.split(' ')) {
    if (line.length + entry.length + 1 > width && line.trim() !== prefix.trim()) {
      lines.push(line);
      line = ' '.repeat(prefix.length);
    }
    line += `${line.endsWith(' ') ? '' : ' '}${entry}`;
  }
  lines.push(line);
  return lines;
}

/** The SVG of a scenario, drawn from what it recorded. */
export function renderScenario(scenario: MarbleScenario, recorded: RecordedScenario): string {
  const laneFrames = [...recorded.inputs, ...recorded.outputs];
  const lanes = [...scenario.inputs, ...scenario.outputs];
  const { x, breaks, end } = columns(laneFrames);
  const width = Math.ceil(Math.max(end + 16, 620, X0 + scenario.operator.length * OPERATOR_CHAR_W + 40));
  const parts: string[] = [];
  let y = 28;
  parts.push(text(16, y, scenario.title, { 'font-size': 15, 'font-weight': 'bold' }));
  y += 16;

  const lettering = lanes.map(letteringOf);
  const drawLane = (index: number) => {
    const lane = lanes[index]!;
    const cy = y + LANE_H / 2;
    parts.push(text(LABEL_RIGHT, cy + 4, lane.label, { 'text-anchor': 'end', fill: '#111111' }));
    parts.push(tag('line', { x1: X0, y1: cy, x2: width - 20, y2: cy, stroke: '#9ca3af', 'stroke-width': 1.5 }));
    parts.push(arrowHead(width - 14, cy, 'right', '#9ca3af'));
    for (const [frame, list] of byFrame(laneFrames[index]!)) {
      list.forEach((n, k) => parts.push(shape(n, x.get(frame)! + k * ITEM, cy, lettering[index]!, lane.plain === true)));
    }
    y += LANE_H;
  };
  scenario.inputs.forEach((_, i) => drawLane(i));

  // The operator box.
  y += 6;
  parts.push(tag('rect', { x: X0, y, width: width - X0 - 20, height: 34, rx: 4, fill: '#f8fafc', stroke: '#334155', 'stroke-width': 1.5 }));
  parts.push(text(X0 + (width - X0 - 20) / 2, y + 22, scenario.operator, { 'text-anchor': 'middle', 'font-family': MONO }));
  y += 40;
  scenario.outputs.forEach((_, i) => drawLane(scenario.inputs.length + i));

  // The time axis: a tick at every frame something happens; a break mark where a long silence is shortened.
  const axisY = y + 4;
  parts.push(tag('line', { x1: X0, y1: axisY, x2: width - 20, y2: axisY, stroke: '#d1d5db' }));
  let lastLabelEnd = -Infinity;
  for (const [frame, at] of [...x].sort((a, b) => a[0] - b[0])) {
    parts.push(tag('line', { x1: at, y1: axisY - 3, x2: at, y2: axisY + 3, stroke: '#9ca3af' }));
    const label = timeLabel(frame);
    if (at - (label.length * 6.5) / 2 > lastLabelEnd + 4) {
      parts.push(text(at, axisY + 16, label, { 'text-anchor': 'middle', 'font-size': 10, fill: '#6b7280' }));
      lastLabelEnd = at + (label.length * 6.5) / 2;
    }
  }
  for (const at of breaks) parts.push(text(at, axisY + 4, '≈', { 'text-anchor': 'middle', 'font-size': 14, fill: '#6b7280' }));
  parts.push(text(width - 20, axisY + 30, 'virtual time (ms)', { 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }));
  y = axisY + 44;

  // The legend, in the testing kit's syntax, one block per lane with elements.
  const labelWidth = Math.max(...lanes.map((l) => l.label.length)) + 2;
  const chars = Math.floor((width - 32) / CHAR_W);
  lanes.forEach((lane, i) => {
    if (lane.plain) return;
    const entries = lettering[i]!.legend();
    if (entries === '') return;
    for (const line of wrapLegend(`${`${lane.label}:`.padEnd(labelWidth)}`, entries, chars)) {
      parts.push(text(16, y, line, { 'font-family': MONO, 'font-size': 11, fill: '#374151', 'xml:space': 'preserve' }));
      y += 16;
    }
  });
  return svgDocument(width, y + 8, scenario.title, parts);
}
