// The lookup service's data: a user's profile, derived from the user id alone, so that the service, the job and
// the tests agree without sharing a database file. Every id from 1 to USERS exists; other ids are unknown.
export const USERS = 50_000;

// Countries with a rough share of the traffic each; a user's country is drawn from these weights.
const COUNTRIES = [
  ['US', 24], ['IN', 12], ['BR', 7], ['DE', 6], ['GB', 6], ['JP', 5], ['FR', 5], ['ID', 4], ['MX', 4], ['CA', 3],
  ['KR', 3], ['IT', 3], ['ES', 3], ['NG', 2], ['PL', 2], ['TR', 2], ['AU', 2], ['NL', 2], ['SE', 1], ['AR', 1],
];
const TOTAL_WEIGHT = COUNTRIES.reduce((sum, [, w]) => sum + w, 0);
const PLANS = ['free', 'free', 'free', 'pro', 'team'];

/** A 32-bit integer hash (Wang's), so neighbouring ids get unrelated profiles. */
export function hash32(n) {
  let x = n >>> 0;
  x = (x ^ 61) ^ (x >>> 16);
  x = Math.imul(x, 9);
  x ^= x >>> 4;
  x = Math.imul(x, 0x27d4eb2d);
  x ^= x >>> 15;
  return x >>> 0;
}

/** The profile of user `id`, or null when no such user exists. */
export function userProfile(id) {
  if (!Number.isInteger(id) || id < 1 || id > USERS) return null;
  const h = hash32(id);
  let pick = h % TOTAL_WEIGHT;
  let country = COUNTRIES[0][0];
  for (const [code, weight] of COUNTRIES) {
    if (pick < weight) { country = code; break; }
    pick -= weight;
  }
  return { id, country, plan: PLANS[(h >>> 8) % PLANS.length], signupYear: 2015 + ((h >>> 12) % 11) };
}
