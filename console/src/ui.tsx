import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';

/** A GraphQL or network failure, announced to screen readers. */
export function ErrorAlert({ error }: { error: CombinedError | undefined }) {
  if (!error) return null;
  const messages = error.graphQLErrors.length
    ? error.graphQLErrors.map(
        (e) => `${e.message}${e.extensions?.code ? ` (${String(e.extensions.code)})` : ''}`,
      )
    : [error.networkError ? `The server could not be reached: ${error.networkError.message}` : error.message];
  return (
    <div role="alert" className="alert">
      {messages.map((m) => (
        <p key={m}>{m}</p>
      ))}
    </div>
  );
}

/** An expected refusal from the API (an Error union member): its code and message. */
export interface Refusal {
  code: string;
  message: string;
  path?: readonly string[];
}

export function RefusalAlert({ refusal }: { refusal: Refusal | null | undefined }) {
  if (!refusal) return null;
  return (
    <div role="alert" className="alert">
      <p>
        <strong>{refusal.code}</strong>: {refusal.message}
      </p>
    </div>
  );
}

/**
 * The refusal's message when it names this input field (InputError.path ends with the field's
 * name), shown next to the field.
 */
export function fieldError(refusal: Refusal | null | undefined, field: string): string | undefined {
  if (!refusal?.path?.length) return undefined;
  return refusal.path.includes(field) ? refusal.message : undefined;
}

export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}

/** aria attributes tying a control to its hint and error. */
export function described(id: string, error?: string, hint?: string) {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined };
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
}
