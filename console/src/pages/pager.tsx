import { useState } from 'react';

/** Keyset paging forward and back: the cursors of the pages seen so far (the API's endCursor). */
export function useCursors() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    after: cursors[cursors.length - 1] ?? null,
    page: cursors.length,
    next: (endCursor: string | null | undefined) => setCursors((c) => [...c, endCursor ?? null]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([null]),
  };
}

export function Pager({
  cursors,
  pageInfo,
  label,
}: {
  cursors: ReturnType<typeof useCursors>;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined;
  label: string;
}) {
  return (
    <nav aria-label={`${label} pages`} className="actions">
      <span>Page {cursors.page}</span>
      <button type="button" className="secondary" disabled={cursors.page === 1} onClick={cursors.previous}>
        Previous page
      </button>
      <button
        type="button"
        className="secondary"
        disabled={!pageInfo?.hasNextPage}
        onClick={() => cursors.next(pageInfo?.endCursor)}
      >
        Next page
      </button>
    </nav>
  );
}
