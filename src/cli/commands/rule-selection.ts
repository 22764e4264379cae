import { RULES } from '../../audit/rules/api.js';
import type { Rule } from '../../audit/types.js';
import { UsageError } from '../../core/errors.js';

/** commander collector for repeatable, comma-separated rule ids. */
export const collectIds = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').filter((id) => id !== ''),
];

/** The registered rules named by --rule, minus those named by --skip-rule; unknown ids are usage errors. */
export function selectRules(
  only: readonly string[] | undefined,
  skip: readonly string[] | undefined,
): Rule[] {
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!RULES.has(id))
      throw new UsageError('UNKNOWN_RULE', `no rule "${id}"`, {
        hint: `rules: ${[...RULES.keys()].join(', ')}`,
      });
  }
  return [...RULES.values()].filter(
    (rule) => (only === undefined || only.includes(rule.id)) && !(skip ?? []).includes(rule.id),
  );
}
