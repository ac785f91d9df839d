import { dirname, join, relative } from 'path';
import * as ts from 'typescript';

// spec/types/consumer is a consumer project compiled with exactOptionalPropertyTypes (spec/types/tsconfig.json):
// it fills every public options type from a configuration whose fields may be undefined.
const root = join(__dirname, '..', '..');
const project = join(__dirname, 'tsconfig.json');

/** The diagnostics tsc reports for the consumer's own files (the package's sources are checked by npm test). */
function consumerErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(project, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error(`cannot read ${project}`);
  const program = ts.createProgram(config.fileNames, config.options);
  const consumer = join(dirname(project), 'consumer');
  return [...config.errors, ...ts.getPreEmitDiagnostics(program)]
    .filter((d) => d.file === undefined || d.file.fileName.startsWith(consumer))
    .map((d) => {
      const where = d.file === undefined ? '' : `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `;
      return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('types for consumers with exactOptionalPropertyTypes', () => {
  it('accept an explicit undefined for every optional option of every public options type', () => {
    // Arrange: spec/types/consumer/exactOptional.ts, one object per options type, each field from the config.

    // Act
    const errors = consumerErrors();

    // Assert
    expect(errors).toEqual([]);
  }, 60_000);
});
