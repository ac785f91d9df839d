/**
 * The soak switch: `npm test` runs each heavy spec in a quick variant, and with SLUICE_FULL=1 (set by CI) in a
 * longer one (more property runs, more crashes). Both variants check the same things.
 */
export const FULL = process.env['SLUICE_FULL'] === '1';

/** `quick` in a plain `npm test`, `full` under SLUICE_FULL=1. */
export const soak = <T>(quick: T, full: T): T => (FULL ? full : quick);
