import { readFileSync } from 'fs';
import { join } from 'path';
import { TestScheduler } from 'rxjs/testing';
import * as ts from 'typescript';

// The README's heartbeat example, run as written (in virtual time: TestScheduler.run virtualises the
// asyncScheduler that interval and keyedTimers use), must print what the README says it prints, when it says.
const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README heartbeat example', () => {
  it('prints one alert, for the sensor that went silent, at 6 s', () => {
    // Arrange: the ```ts block of the example, compiled to CommonJS; its console is ours.
    const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('Heartbeat timeout'));
    expect(block).toBeDefined();
    const js = ts.transpileModule(block!, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const printed: [number, string][] = [];
    const fakeConsole = { ...console, warn: (line: string) => printed.push([scheduler.now(), line]), log: (line: string) => printed.push([scheduler.now(), line]) };

    // Act
    scheduler.run(() => {
      scheduler.maxFrames = 120_000; // 2 min of virtual time: an example that never ends stops there
      new Function('require', 'exports', 'console', js)(require, {}, fakeConsole);
    });

    // Assert: what the comment under the example says.
    expect(printed).toEqual([[6_000, 'Heartbeat timeout:sensor-2']]);
    expect(block).toContain('After about 6 s it prints "Heartbeat timeout:sensor-2", once.');
  });
});
