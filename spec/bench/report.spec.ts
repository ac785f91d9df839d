import { execFileSync } from 'child_process';
import { join } from 'path';

// The benchmark report printed on the terminal (bench/report.mjs): it must fit a 120-column terminal, and a
// target measured at a smaller N than it is set at (--quick) gets no verdict, only its figure.
const root = join(__dirname, '..', '..');
const WIDTH = 120;

/** Runs bench/report.mjs's printReport on `results` in a child process (the bench is plain ES modules). */
function printed(results: unknown, quick: boolean): string {
  const script = `
    const { printReport } = await import(${JSON.stringify(join(root, 'bench', 'report.mjs'))});
    const machine = { node: 'v20.0.0', cpu: 'Some CPU', cpuCount: 2, date: '2026-01-01T00:00:00.000Z' };
    printReport(${JSON.stringify(results)}, { machine, quick: ${quick}, runs: 3, wallMs: 30000 });`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

// Rows and targets shaped like the suite's own, with its longest contender names, labels and figures.
const memoryRow = (contender: string) => ({
  contender, n: 1e5, medianMs: 1234.5, runs: 1, times: [1234.5],
  extra: {
    'baseline heap': '6.4 MB',
    'sampled peak growth': '59.2 MB',
    'sampled peak growth / N': '62.1 B',
    'live bytes per buffered element (gc, all N held)': '48.2 B',
    'heap after gc vs baseline (worst run)': '6.6 MB (+3.9%)',
  },
  note: '--quick: a single run',
});
const results = [
  {
    id: 'flood',
    title: 'Flood: N records emitted synchronously, capacity 100, fn = x => Promise.resolve(2x)',
    rows: ['asyncWaitOrdered', 'concatMapEager (mergeMap+materialize+reorder)', 'Readable.from().map(fn, {concurrency: 100})']
      .map((contender) => ({
        contender, n: 1e6, medianMs: 321.4, runs: 3, times: [321.4],
        extra: { 'vs raw loop': '3.89x', 'mergeMap / this': 'n/a', 'time(N) / time(N/10)': '10.2x' },
        note: 'mergeMap not run at 1e6 in --quick',
      })),
    targets: [
      { target: 'Flood, asyncWaitOrdered: time(1e6) / time(1e5) <= 12 (linear)', measured: '10.2x', pass: true, setAtN: 1e6, measuredAtN: 1e6 },
      {
        target: 'Flood, asyncWaitOrdered: at N = 1e6, >= 50x faster than mergeMap(fn, 100)',
        measured: '20.2x', pass: false, setAtN: 1e6, measuredAtN: 1e5,
      },
    ],
  },
  {
    id: 'memory',
    title: 'Memory: 1e5 records emitted synchronously through a 1 ms call (setTimeout), capacity 100',
    rows: [memoryRow('asyncWaitUnordered'), memoryRow('asyncWaitOrdered')],
    targets: [
      {
        target: 'Memory, asyncWaitUnordered: peak heap growth per buffered element (reported, no threshold)',
        measured: '48.2 B live per buffered element (forced gc with all 1e5 held); sampled peak growth 5.9 MB = 62.1 B per element, garbage included',
        pass: null,
      },
      { target: 'Timers: >= 1e6 registrations plus firings per second', measured: '0.62e6 /s', pass: false, setAtN: 1e6, measuredAtN: 1e6 },
    ],
  },
  {
    id: 'flowControlMemory',
    title: "Flow control, memory: 1e6 values through asyncWaitOrdered (capacity 100, input 'values'), each call resolving on a microtask (79.9%), after setImmediate (20.0%) or after setTimeout(1) (0.1%), seeded; pull source against push source, each in a child process",
    rows: ['pulled(generator)', 'range()'].map((contender) => ({
      contender, n: 1e7, medianMs: 15421.9, runs: 1, times: [15421.9],
      extra: {
        'baseline heap': '6.3 MB',
        'sampled peak growth': '1023.4 MB',
        'most values held (read, not yet out)': '10,000,000',
        throughput: '648.4 k/s',
        'source pauses': '1,869,813',
        'back-pressured time': '13721 ms',
      },
    })),
    targets: [],
  },
  {
    id: 'saturation',
    title: 'Saturation: 1e5 records through asyncWaitUnordered against a service of 8 servers (5 ms a request) and a queue of 64 (overload beyond), slower past 16 queued; timeout 100 ms, 3 retries (5-10-20 ms; a 10% budget for the adaptive ones)',
    rows: ['fixed capacity 100', 'fixed capacity 8 (the oracle)', "adaptive 'gradient', capacity 100"].map((contender) => ({
      contender, n: 1e5, medianMs: 62345.6, runs: 1, times: [62345.6],
      extra: {
        throughput: '1.6 k/s',
        'vs oracle': '0.01x',
        'results / timed out / failed': '100,000 / 25,840 / 73,680',
        'call latency p50 / p99': '149 / 1234 ms',
        'record latency p50 / p99': '37.5 / 108 ms',
        'retries (denied by the budget)': '260,190 (12,345)',
        'rejected by the service': '334,030',
        'wasted answers': '25,680',
        'slots busy': '99.9%',
        'peak service queue': '64',
        'limit: mean (range)': '30.3 (10-37)',
        'minRtt / median sampleRtt': '10 / 27.2 ms',
      },
    })),
    targets: [],
  },
];

describe('bench report on the terminal', () => {
  it('fits in 120 columns, with every contender, figure and target still printed', () => {
    // Arrange / Act
    const out = printed(results, true);

    // Assert
    const tooWide = out.split('\n').filter((line) => line.length > WIDTH);
    expect(tooWide).toEqual([]);
    for (const text of [
      'concatMapEager (mergeMap+materialize+reorder)', '48.2 B', '6.6 MB (+3.9%)', '62.1 B', '10.2x', '0.62e6 /s', '1,869,813', '13721 ms',
      '100,000 / 25,840 / 73,680', '260,190 (12,345)', '30.3 (10-37)', '10 / 27.2 ms',
    ]) {
      expect(out).toContain(text);
    }
  });

  it('gives n/a, not FAIL, to a target measured at a smaller N than it is set at, and judges the others', () => {
    // Arrange / Act
    const out = printed(results, true);
    const lineOf = (start: string) => out.split('\n').find((line) => line.includes(start)) ?? '';

    // Assert
    expect(lineOf('>= 50x faster than mergeMap')).toMatch(/^n\/a\b/);
    expect(out.replace(/\s+/g, ' ')).toContain('20.2x (at N = 1e5; the target is set at N = 1e6)');
    expect(lineOf('time(1e6) / time(1e5) <= 12')).toMatch(/^PASS\b/);
    expect(lineOf('>= 1e6 registrations plus firings')).toMatch(/^FAIL\b/);
    expect(lineOf('peak heap growth per buffered element')).toMatch(/^info\b/);
    expect(out).toContain('1 target(s) pass, 1 fail, 1 n/a (measured at a smaller N than set), 1 info.');
  });
});

describe('bench saturation chart', () => {
  /** Runs bench/report.mjs's saturationSvg on `timeline` in a child process; returns the SVG, or the error's message. */
  function drawn(timeline: unknown): string {
    const script = `
      const { saturationSvg } = await import(${JSON.stringify(join(root, 'bench', 'report.mjs'))});
      try { process.stdout.write(saturationSvg(${JSON.stringify(timeline)}, { subtitle: 'a <quick> run' })); }
      catch (err) { process.stdout.write('ERROR ' + err.message); }`;
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  }

  it('draws the limit and the latency of every contender over time, names them, and marks the timeout', () => {
    // Arrange
    const timeline = {
      bucketMs: 20,
      timeoutMs: 100,
      series: [
        { name: 'fixed capacity 100', limit: [[0.01, 100], [0.03, 100]], latency: [[0.01, 5], [0.03, 150]] },
        { name: "adaptive 'aimd' & co", limit: [[0.01, 10], [0.03, 12]], latency: [[0.01, 5.5], [0.03, 9]] },
      ],
    };

    // Act
    const svg = drawn(timeline);

    // Assert
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(4); // a limit line and a latency line per contender
    expect(svg).toContain('adaptive &apos;aimd&apos; &amp; co'); // names escaped
    expect(svg).toContain('a &lt;quick&gt; run');
    expect(svg).toContain('timeout 100 ms');
  });

  it('refuses a timeline without any point', () => {
    // Arrange / Act
    const out = drawn({ bucketMs: 20, timeoutMs: 100, series: [{ name: 'x', limit: [], latency: [] }] });

    // Assert
    expect(out).toBe('ERROR saturationSvg: no points');
  });
});

describe('bench flood chart and page summary', () => {
  /** Runs an expression over bench/report.mjs's exports (as `report`) in a child process; returns its JSON. */
  function evaluate(expression: string): unknown {
    const script = `
      const report = await import(${JSON.stringify(join(root, 'bench', 'report.mjs'))});
      process.stdout.write(JSON.stringify(${expression}));`;
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  }

  it('draws slope-1 and slope-2 reference lines through the first contender at its smallest N', () => {
    // Arrange: a linear contender from 10 ms at 1e4, and a quadratic one
    const series = [
      { name: 'linear', points: [[1e4, 10], [1e5, 100], [1e6, 1000]] },
      { name: 'quadratic', points: [[1e4, 10], [1e5, 1000], [1e6, 100000]] },
    ];

    // Act
    const svg = evaluate(`report.floodSvg(${JSON.stringify(series)})`) as string;

    // Assert: each reference line runs exactly along the contender of its slope
    const polylines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
    const group = /<g stroke="#888888"[^>]*fill="none">\n([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    const lines = [...group.matchAll(/<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"\/>/g)].map((m) => m.slice(1).map(Number));
    expect(svg).toContain('slope 1 (linear)');
    expect(svg).toContain('slope 2 (quadratic)');
    expect(lines).toEqual([
      [...polylines[0]![0]!, ...polylines[0]![2]!],
      [...polylines[1]![0]!, ...polylines[1]![2]!],
    ]);
  });

  it('opens the page with three lines: the verdicts, the flood headline, and how to read on', () => {
    // Arrange
    const results = [{ id: 'flood', rows: [
      { contender: 'asyncWaitOrdered', n: 1e5, medianMs: 40, extra: {} },
      { contender: 'asyncWaitOrdered', n: 1e6, medianMs: 400, extra: { 'vs raw loop': '8.00x', 'mergeMap / this': '100x', 'time(N) / time(N/10)': '10.0x' } },
    ] }];
    const targets = [{ pass: true }, { pass: true }, { pass: false }, { pass: null }];

    // Act
    const lines = evaluate(`report.pageSummary(${JSON.stringify(results)}, ${JSON.stringify(targets)})`) as string[];

    // Assert
    expect(lines).toEqual([
      '- **2 of 3 targets pass**, 1 fail; 1 more figures are reported without a threshold (see [Targets](#targets)).',
      '- Flood of 1e6 records: asyncWaitOrdered takes 400 ms, 100x faster than `mergeMap(fn, 100)` and 8.00x a raw promise loop\'s time; 10x the records cost 10.0x the time (10x is linear).',
      expect.stringContaining('slope-1 (linear) and slope-2 (quadratic) reference lines'),
    ]);
  });
});
