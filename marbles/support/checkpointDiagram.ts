/**
 * The checkpoint protocol of docs/checkpoints.md, drawn: barrier B3 travels in line with the records through the
 * stateful operators, each snapshots its state as B3 passes, checkpoint 3 completes when B3 reaches the end, and
 * then the sink pre-commits, the store writes and the sink commits. Written with the same SVG writer as the marble
 * diagrams, and checked against docs/checkpoint-protocol.svg by marbles/diagrams.spec.ts.
 */
import { arrowHead, svgDocument, tag, text } from './svg';

const W = 900;
const H = 470;
const INK = '#111111';
const MUTED = '#4b5563';
const RED = '#b91c1c';
const BLUE = '#1e40af';
const MONO = 'Menlo, Consolas, monospace';

/** A box with centred lines of text. */
function box(x: number, y: number, w: number, h: number, lines: readonly string[], style: { fill: string; stroke: string; mono?: boolean }): string {
  const first = y + h / 2 - ((lines.length - 1) * 15) / 2 + 4;
  return tag('g', {},
    tag('rect', { x, y, width: w, height: h, rx: 5, fill: style.fill, stroke: style.stroke, 'stroke-width': 1.5 }),
    ...lines.map((line, i) => text(x + w / 2, first + i * 15, line, { 'text-anchor': 'middle', 'font-family': style.mono ? MONO : undefined })));
}

/** A straight arrow from (x1, y1) to (x2, y2), horizontal or vertical. */
function arrow(x1: number, y1: number, x2: number, y2: number, color = MUTED, dashed = false): string {
  return tag('g', {},
    tag('line', { x1, y1, x2: x2 - (x2 > x1 ? 8 : 0), y2: y2 - (y2 > y1 ? 8 : 0), stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': dashed ? '4,3' : undefined }),
    arrowHead(x2, y2, x2 > x1 ? 'right' : 'down', color));
}

/** A record on the source's stream. */
const recordDot = (x: number, y: number) => tag('circle', { cx: x, cy: y, r: 7, fill: '#dbeafe', stroke: BLUE, 'stroke-width': 1.5 });
/** A barrier on the source's stream, labelled. */
const barrierBar = (x: number, y: number, label: string) => tag('g', {},
  tag('rect', { x: x - 3, y: y - 13, width: 6, height: 26, fill: RED }),
  text(x, y - 18, label, { 'text-anchor': 'middle', 'font-weight': 'bold', fill: RED }));

/** The SVG of the checkpoint protocol. */
export function checkpointProtocolSvg(): string {
  const parts: string[] = [];
  parts.push(text(16, 28, 'The checkpoint protocol: aligned barriers, in band', { 'font-size': 15, 'font-weight': 'bold' }));

  // 1. The stream: records and barriers leave the source in line, newest on the left.
  const laneY = 78;
  parts.push(text(16, laneY + 4, 'source', { 'font-weight': 'bold' }));
  parts.push(tag('line', { x1: 70, y1: laneY, x2: 232, y2: laneY, stroke: '#9ca3af', 'stroke-width': 1.5 }));
  parts.push(recordDot(90, laneY), barrierBar(112, laneY, 'B4'), recordDot(134, laneY), recordDot(156, laneY), barrierBar(178, laneY, 'B3'), recordDot(200, laneY), recordDot(222, laneY));
  parts.push(text(150, laneY + 30, 'position 8 recorded with B3', { 'text-anchor': 'middle', 'font-size': 11, fill: MUTED }));

  // 2. The operators, left to right, and what each snapshots when B3 reaches it.
  const ops = [
    { x: 250, name: 'withWatermarks', snap: ['max timestamp'] },
    { x: 420, name: 'asyncWait', snap: ['held inputs, in order', '(B3 overtakes them)'] },
    { x: 590, name: 'keyedTimers', snap: ['keyed state, timers,', 'watermark'] },
  ];
  const opY = laneY - 20;
  ops.forEach((op, i) => {
    parts.push(box(op.x, opY, 140, 40, [op.name], { fill: '#f8fafc', stroke: '#334155', mono: true }));
    parts.push(arrow(i === 0 ? 232 : ops[i - 1]!.x + 140, laneY, op.x, laneY));
    parts.push(box(op.x, 140, 140, 44, op.snap, { fill: '#fefce8', stroke: '#a16207' }));
    parts.push(arrow(op.x + 70, opY + 40, op.x + 70, 140, '#a16207', true));
  });
  parts.push(text(ops[0]!.x + 80, 128, 'snapshot when B3 arrives, then forward B3', { 'font-size': 11, fill: '#a16207', 'text-anchor': 'start' }));
  parts.push(arrow(730, laneY, 790, laneY));
  parts.push(box(790, opY, 90, 40, ['end'], { fill: '#f8fafc', stroke: '#334155', mono: true }));
  parts.push(text(835, opY + 58, 'B3 arrives', { 'text-anchor': 'middle', 'font-size': 11, fill: RED }));

  // 3. Checkpoint 3 collects the position and the snapshots, and is complete when B3 reaches the end.
  const cpY = 222;
  parts.push(box(250, cpY, 480, 52, ['checkpoint 3: source position 8 + 3 snapshots', 'complete when B3 reaches the end of the pipeline'], { fill: '#eff6ff', stroke: BLUE }));
  for (const op of ops) parts.push(arrow(op.x + 70, 184, op.x + 70, cpY, '#a16207', true));
  parts.push(tag('line', { x1: 835, y1: opY + 66, x2: 835, y2: cpY + 26, stroke: RED, 'stroke-width': 1.5, 'stroke-dasharray': '4,3' }));
  parts.push(tag('line', { x1: 835, y1: cpY + 26, x2: 738, y2: cpY + 26, stroke: RED, 'stroke-width': 1.5, 'stroke-dasharray': '4,3' }));
  parts.push(tag('polygon', { points: `730,${cpY + 26} 738,${cpY + 22} 738,${cpY + 30}`, fill: RED }));
  parts.push(tag('line', { x1: 150, y1: laneY + 38, x2: 150, y2: cpY + 26, stroke: MUTED, 'stroke-width': 1.5, 'stroke-dasharray': '4,3' }));
  parts.push(arrow(150, cpY + 26, 250, cpY + 26, MUTED, true));

  // 4. Saving it: serialise with a checksum, pre-commit the epoch's outputs, write durably, commit.
  parts.push(arrow(490, cpY + 52, 490, 312));
  parts.push(text(500, 298, 'serialise + checksum', { 'font-size': 11, fill: MUTED }));
  const steps = [
    { x: 120, lines: ['sink.preCommit(3,', 'epoch 3 outputs)'] },
    { x: 390, lines: ['store.write(3)', '(durable)'] },
    { x: 660, lines: ['sink.commit(3)'] },
  ];
  steps.forEach((s, i) => {
    parts.push(box(s.x, 312, 200, 46, s.lines, { fill: '#f0fdf4', stroke: '#15803d', mono: true }));
    if (i > 0) parts.push(arrow(steps[i - 1]!.x + 200, 335, s.x, 335, '#15803d'));
  });
  parts.push(arrow(760, 358, 760, 398, '#15803d'));
  parts.push(text(880, 416, "'exactly-once': the outputs of epoch 3 are released", { 'text-anchor': 'end', fill: INK }));
  parts.push(text(16, 440, 'Epoch 3 is every output that reached the end between B2 and B3.', { 'font-size': 11, fill: MUTED }));
  parts.push(text(16, 456, 'A restart restores checkpoint 3: the source resumes at position 8, and each operator from its snapshot.', { 'font-size': 11, fill: MUTED }));
  return svgDocument(W, H, 'The checkpoint protocol: aligned barriers, in band', parts);
}
