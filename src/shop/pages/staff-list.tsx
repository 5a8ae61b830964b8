// What every paged staff list shows around its table: one search box, the status filter, the date
// range (UTC days) and the "Newer" / "Older" links that keep them.
import type { FC } from 'hono/jsx';
import { DEFAULT_PAGE_SIZE, type ListParams } from '../routes/staff-list-query.ts';
import type { Person } from '../storage/staff-payment-lists.ts';

/** The search and filter form of a list (a GET form: the result is a link that can be shared). */
export const ListFilters: FC<{
  action: string;
  params: ListParams;
  statuses: readonly string[];
  searchHint: string;
  statusLabel?: string;
}> = ({ action, params, statuses, searchHint, statusLabel = 'Status' }) => (
  <form class="filters card" method="get" action={action} data-testid="list-filters">
    <div class="field">
      <label for="list-q">Search</label>
      <input id="list-q" name="q" type="search" value={params.q} maxlength={200} aria-describedby="list-q-hint" />
      <small id="list-q-hint" class="muted">
        {searchHint}
      </small>
    </div>
    <div class="field">
      <label for="list-status">{statusLabel}</label>
      <select id="list-status" name="status">
        <option value="" selected={params.status === ''}>
          any
        </option>
        {statuses.map((s) => (
          <option value={s} selected={params.status === s}>
            {s.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
    </div>
    <div class="field">
      <label for="list-from">From (UTC day)</label>
      <input id="list-from" name="from" type="date" value={params.from} />
    </div>
    <div class="field">
      <label for="list-to">To (UTC day, inclusive)</label>
      <input id="list-to" name="to" type="date" value={params.to} />
    </div>
    {params.limit !== DEFAULT_PAGE_SIZE ? <input type="hidden" name="limit" value={String(params.limit)} /> : null}
    <div class="actions">
      <button type="submit">Search</button>
      <a href={action}>Clear</a>
    </div>
  </form>
);

/** "Newer" and "Older" links (plain text when there is no such page) and how many rows this page shows. */
export const Pager: FC<{ newer?: string | undefined; older?: string | undefined; shown: number; limit: number }> = (
  p,
) => (
  <nav class="pager actions" aria-label="Pages" data-testid="pager">
    {p.newer ? (
      <a href={p.newer} rel="prev" data-testid="page-newer">
        ← Newer
      </a>
    ) : (
      <span class="muted">← Newer</span>
    )}
    <span class="muted">
      {p.shown} shown, up to {p.limit} a page, newest first
    </span>
    {p.older ? (
      <a href={p.older} rel="next" data-testid="page-older">
        Older →
      </a>
    ) : (
      <span class="muted">Older →</span>
    )}
  </nav>
);

/** How staff read an actor id: the account's name and e-mail, "the gateway", or the id marked unknown. */
export function personLabel(id: string | null | undefined, people: ReadonlyMap<string, Person>): string {
  if (!id) return '';
  const person = people.get(id);
  if (person) return `${person.name} <${person.email}>`;
  if (id === 'gateway') return 'the gateway';
  return id.startsWith('usr_') ? `deleted or unknown account (${id})` : id;
}
