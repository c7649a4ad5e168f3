import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../errors.js';

/** Limits on what one GraphQL document may ask for. */
export const QUERY_LIMITS = {
  /** Nesting depth of selections. */
  maxDepth: 12,
  /** Aliases in one document (alias floods multiply work). */
  maxAliases: 15,
  /** Lexical tokens in one document. */
  maxTokens: 2000,
  /** Estimated cost (objects 2, scalars 1, multiplied by depth). */
  maxCost: 5000,
} as const;

/**
 * A limit's refusal as every other refusal: a stable code (the armor plugins label theirs
 * "Syntax Error" and give none), the limit named, thrown before the document is executed.
 */
const refuseAs =
  (code: ErrorCode, onRefusal: OnRefusal) =>
  (_context: unknown, error: GraphQLError): never => {
    const message = error.message.replace(/^Syntax Error: /, '');
    onRefusal(code, message);
    throw new GraphQLError(message, { extensions: { code } });
  };

/** Told of every document refused by a limit (for the audit log). */
export type OnRefusal = (code: ErrorCode, message: string) => void;

/**
 * The GraphQL hardening: CSRF prevention for browsers (a request that a form or a plain GET could
 * send must carry a custom header), limits on depth, aliases, tokens and cost, and in production
 * no introspection and no "did you mean" field suggestions.
 */
export function securityPlugins(production: boolean, onRefusal: OnRefusal = () => {}): Plugin[] {
  const plugins: Plugin[] = [
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'x-graphql-yoga-csrf'] }),
    maxDepthPlugin({
      n: QUERY_LIMITS.maxDepth,
      ignoreIntrospection: true,
      exposeLimits: true,
      onReject: [refuseAs('QUERY_TOO_DEEP', onRefusal)],
    }) as Plugin,
    maxAliasesPlugin({
      n: QUERY_LIMITS.maxAliases,
      exposeLimits: true,
      onReject: [refuseAs('QUERY_TOO_MANY_ALIASES', onRefusal)],
    }) as Plugin,
    maxTokensPlugin({
      n: QUERY_LIMITS.maxTokens,
      exposeLimits: true,
      onReject: [refuseAs('QUERY_TOO_MANY_TOKENS', onRefusal)],
    }) as Plugin,
    costLimitPlugin({
      maxCost: QUERY_LIMITS.maxCost,
      ignoreIntrospection: true,
      exposeLimits: true,
      onReject: [refuseAs('QUERY_TOO_COSTLY', onRefusal)],
    }) as Plugin,
  ];
  if (production) {
    plugins.push(useDisableIntrospection() as Plugin, blockFieldSuggestionsPlugin() as Plugin);
  }
  return plugins;
}
