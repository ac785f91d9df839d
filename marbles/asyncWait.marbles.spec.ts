import { ASYNC_WAIT_SCENARIOS } from './asyncWait.scenarios';
import { checkScenario } from './support/scenario';

// asyncWaitOrdered / asyncWaitUnordered in marble diagrams: each scenario of asyncWait.scenarios.ts must emit what
// its output marbles say. The same scenarios are drawn in docs/async-io.md (marbles/diagrams.spec.ts).
describe('asyncWait marble scenarios', () => {
  it.each(ASYNC_WAIT_SCENARIOS.map((s) => [s.title, s] as const))('%s', (_title, scenario) => checkScenario(scenario));
});
