// The dashboard's team: owners add users (with an initial password they pass on) and remove members.
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { addMember } from '../commands/add-member.ts';
import { TeamPage } from '../pages/dashboard-team.page.tsx';
import { listDashboardUsers, removeDashboardMember } from '../storage/dashboard-users.ts';
import { field, html, requireOwner, viewOf, type DashboardDeps, type Env, type Router } from './dashboard-kit.ts';

/** GET/POST /team, POST /team/:id/remove. */
export function registerTeamRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const page = async (
    c: Context<Env>,
    extra: Omit<Parameters<typeof TeamPage>[0], 'view' | 'users'> = {},
    status = 200,
  ) =>
    html(
      c,
      <TeamPage
        view={viewOf(c, clock)}
        users={await listDashboardUsers(database.db, c.get('merchant').id)}
        {...extra}
      />,
      status,
    );
  router.get('/team', (c) => page(c));
  router.post('/team', async (c) => {
    requireOwner(c, 'team');
    const form = await c.req.parseBody();
    const role = field(form, 'role') === 'owner' ? 'owner' : 'member';
    const result = await addMember(deps, c.get('merchant').id, {
      email: field(form, 'email').slice(0, 320),
      password: field(form, 'password'),
      role,
    });
    if (result.verdict === 'invalid') return page(c, { errors: result.problems }, 422);
    if (result.verdict === 'email_taken')
      return page(c, { errors: { email: 'This e-mail cannot be added: it already has an account.' } }, 409);
    return page(c, { added: result.user.email }, 201);
  });
  router.post('/team/:id/remove', async (c) => {
    requireOwner(c, 'team');
    if (!(await removeDashboardMember(database.db, c.get('merchant').id, c.req.param('id'))))
      throw new DomainError('not_found', { resource: 'dashboard_user' });
    return c.redirect('/dashboard/team', 303);
  });
}
