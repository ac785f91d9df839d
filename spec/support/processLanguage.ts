// The one list of phrases that talk about how the work was organised rather than about the product. User-facing
// text (README, docs, TSDoc, examples, the benchmark analysis) must not contain them: spec/docs/readme.spec.ts
// checks every such file against this list. Each pattern is a phrase, not a bare word, so product language that
// shares a word still passes ("session windows", "a seeded generator", "a call issues a retry", "the leading").

/** One forbidden phrase: what it matches, and what to write instead. */
export interface ProcessPhrase {
  readonly pattern: RegExp;
  readonly instead: string;
}

export const PROCESS_LANGUAGE: readonly ProcessPhrase[] = [
  { pattern: /\b(?:the|this|that|an|each|every|our|its)\s+issues?(?:'s)?\b/i, instead: 'say what the product does, and why' },
  { pattern: /\bissues?\s*#?\d+/i, instead: 'name the feature, not the work item' },
  { pattern: /\bparts?\s+\d+(?:'s)?\b/i, instead: 'name the feature (checkpoints, the benchmark suite...)' },
  { pattern: /\bseeds?\s*#?\d+/i, instead: 'describe the behaviour, not where it was specified' },
  { pattern: /\bseeds\b/i, instead: 'describe the behaviour, not where it was specified' },
  { pattern: /\bthe seed's\b/i, instead: 'describe the behaviour, not where it was specified' },
  { pattern: /\b(?:this|the|that|previous|earlier|next|last|a later)\s+session\b(?!\s+windows?\b)/i, instead: 'state the fact without a timeline' },
  { pattern: /\bthe lead\b/i, instead: 'state the decision and its reason' },
  { pattern: /\bthe brief\b/i, instead: 'state the requirement itself' },
  { pattern: /\b(?:engineers?|reviewers?)\b/i, instead: 'speak to the user about the product' },
];

/** Every forbidden phrase in `text`, as "line N: the phrase (write instead: ...)". */
export function processLanguageIn(text: string): string[] {
  return text.split('\n').flatMap((line, i) =>
    PROCESS_LANGUAGE.flatMap(({ pattern, instead }) => {
      const match = pattern.exec(line);
      return match ? [`line ${i + 1}: "${match[0]}" (${instead})`] : [];
    }));
}
