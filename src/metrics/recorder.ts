/**
 * What the roads and the core tell the metrics, through this small interface only: they never see
 * prom-client, and a test or a tool can pass `silentRecorder`.
 */
export type SignInOutcome = 'created' | 'signed_in' | 'refused';

export interface SignInObservation {
  /** The road: ACS_POST (browser form) or GRAPHQL (samlAcs handoff). */
  via: string;
  outcome: SignInOutcome;
  /** The refusal's ErrorCode; absent when signed in. */
  code?: string;
  /** The Server-Timing stages, in ms (signed in only): validation, transforms, db. */
  stages?: { validationMs: number; transformsMs: number; dbMs: number };
  /** The whole sign-in, in ms. */
  totalMs: number;
}

export interface SignInRecorder {
  signIn(observation: SignInObservation): void;
}

export const silentRecorder: SignInRecorder = { signIn: () => {} };
