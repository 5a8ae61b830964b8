// The bank app's login form (CSRF: a pre-session token in a cookie and a hidden field).
import { Layout } from './layout.tsx';

/** The login page; `error` is shown above the form. */
export function LoginPage(props: { csrf: string; nonce: string; error?: string; email?: string }) {
  return (
    <Layout title="Log in · countersign bank" nonce={props.nonce}>
      <header>
        <h1>countersign bank</h1>
      </header>
      <p class="meta">Log in to approve payments and see your account.</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="email">E-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <div class="actions">
          <button class="approve" type="submit">
            Log in
          </button>
        </div>
      </form>
    </Layout>
  );
}
