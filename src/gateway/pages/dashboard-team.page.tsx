// The merchant's team: who can log in, and (for owners) adding a member with an initial password or
// removing one.
import type { DashboardUserRow } from '../storage/account-tables.ts';
import { Badge, Button, Csrf, Layout, When, type DashView } from './dashboard-layout.tsx';

/** The team page. */
export function TeamPage(props: {
  view: DashView;
  users: DashboardUserRow[];
  errors?: Partial<Record<'email' | 'password' | 'form', string>>;
  added?: string | undefined;
}) {
  const { view } = props;
  const owner = view.user === null || view.user.role === 'owner';
  const e = props.errors ?? {};
  return (
    <Layout title="Team" view={view} section="team">
      {props.added ? (
        <p class="notice" role="status">
          {props.added} can now log in with the password you chose. Pass it on in person or over a channel you trust.
        </p>
      ) : null}
      {e.form ? (
        <p class="notice error" role="alert">
          {e.form}
        </p>
      ) : null}
      <table>
        <tr>
          <th>E-mail</th>
          <th>Role</th>
          <th>Since</th>
          <th></th>
        </tr>
        {props.users.map((u) => (
          <tr>
            <td>{u.email}</td>
            <td>
              <Badge status={u.role === 'owner' ? 'owner' : 'member'} />
            </td>
            <td>
              <When at={u.createdAt} now={view.now} />
            </td>
            <td>
              {owner && u.role === 'member' ? (
                <Button csrf={view.csrf} action={`/dashboard/team/${u.id}/remove`} label="Remove" tone="danger" />
              ) : null}
            </td>
          </tr>
        ))}
      </table>
      {owner ? (
        <div>
          <h2>Add a member</h2>
          <p class="muted">
            Members see payments, events and settings and can re-send webhooks; only owners manage keys, webhooks,
            faults and the team.
          </p>
          <form class="filters card" method="post" action="/dashboard/team">
            <Csrf csrf={view.csrf} />
            <div>
              <label for="email">E-mail</label>
              <input id="email" name="email" type="email" autocomplete="off" />
              {e.email ? <div class="field-error">{e.email}</div> : null}
            </div>
            <div>
              <label for="password">Initial password (12+ characters)</label>
              <input id="password" name="password" type="password" autocomplete="new-password" />
              {e.password ? <div class="field-error">{e.password}</div> : null}
            </div>
            <div>
              <label for="role">Role</label>
              <select id="role" name="role">
                <option value="member">member</option>
                <option value="owner">owner</option>
              </select>
            </div>
            <button type="submit" class="primary">
              Add
            </button>
          </form>
        </div>
      ) : null}
    </Layout>
  );
}
