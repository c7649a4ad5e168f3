import type { LicenseDecision } from '../audit/provisioning-event.entity.js';
import type { LicenseRule } from './license-rule.entity.js';

/** A connection's license rule as the sign-in evaluates it (plain data, read with the configuration). */
export interface LicenseRuleSpec {
  id: string;
  licenseId: string;
  license: string;
  kind: LicenseRule['kind'];
  groupValue: string | null;
  expression: string | null;
  revokeUnmatched: boolean;
  onExhausted: LicenseRule['onExhausted'];
}

export const licenseRuleSpec = (r: LicenseRule): LicenseRuleSpec => ({
  id: r.id,
  licenseId: r.license.id,
  license: r.license.name,
  kind: r.kind,
  groupValue: r.groupValue ?? null,
  expression: r.expression ?? null,
  revokeUnmatched: r.revokeUnmatched,
  onExhausted: r.onExhausted,
});

/** What the provisioning transaction does with licenses (see jitprov_provision's `licenses`). */
export interface LicensePlan {
  grant: { licenseId: string; ruleId: string; refuse: boolean }[];
  revoke: { licenseId: string; ruleId: string }[];
  /** Decisions that need no database: a rule that did not match, or could not be evaluated. */
  notes: LicenseDecision[];
}

/** What a sign-in brings to the rules: its groups (null: unknown, Entra's overage) and the expressions' verdicts. */
export interface LicenseFacts {
  groups: readonly string[] | null;
  /** By rule id: the EXPRESSION rule's result (true holds), or an error message. */
  expressions: ReadonlyMap<string, { ok: true; value: unknown } | { ok: false; message: string }>;
}

/**
 * Evaluates a connection's license rules for one sign-in. The first rule naming a license decides
 * for it: it matches (grant; a rule that refuses without a seat says so), or it does not (revoke when
 * the rule takes the license back, else leave it as it is), or it cannot tell — the groups are
 * unknown or its expression failed — and then the license is left as it is either way (never
 * revoked on a guess). Licenses no rule names are left alone.
 */
export function planLicenses(rules: readonly LicenseRuleSpec[], facts: LicenseFacts): LicensePlan {
  const plan: LicensePlan = { grant: [], revoke: [], notes: [] };
  const decided = new Set<string>();
  for (const rule of rules) {
    if (decided.has(rule.licenseId)) continue;
    decided.add(rule.licenseId);
    const verdict = holds(rule, facts);
    const note = (decision: LicenseDecision['decision']): LicenseDecision => ({
      licenseId: rule.licenseId,
      license: rule.license,
      ruleId: rule.id,
      decision,
    });
    if (verdict === true) {
      plan.grant.push({ licenseId: rule.licenseId, ruleId: rule.id, refuse: rule.onExhausted === 'REFUSE' });
    } else if (verdict === false) {
      if (rule.revokeUnmatched) plan.revoke.push({ licenseId: rule.licenseId, ruleId: rule.id });
      else plan.notes.push(note('NOT_MATCHED'));
    } else {
      plan.notes.push(note('UNKNOWN'));
    }
  }
  return plan;
}

function holds(rule: LicenseRuleSpec, facts: LicenseFacts): boolean | null {
  switch (rule.kind) {
    case 'EVERYONE':
      return true;
    case 'GROUP':
      return facts.groups === null ? null : facts.groups.includes(rule.groupValue ?? '');
    case 'EXPRESSION': {
      const r = facts.expressions.get(rule.id);
      if (!r?.ok) return null;
      return r.value === true;
    }
  }
}
