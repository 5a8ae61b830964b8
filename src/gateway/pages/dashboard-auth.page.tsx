// The dashboard's pages before login: log in (e-mail and password; a secret API key still works for
// merchants configured by the operator) and sign up; and the welcome page that shows a new merchant's
// key and signing secret once.
import { Layout, ShownOnce, type DashView } from './dashboard-layout.tsx';

function Field(props: {
  name: string;
  label: string;
  type?: string;
  value?: string;
  error?: string | undefined;
  autocomplete?: string;
  hint?: string;
}) {
  return (
    <div>
      <label for={props.name}>{props.label}</label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? ''}
        autocomplete={props.autocomplete ?? 'off'}
      />
      {props.hint ? <div class="muted">{props.hint}</div> : null}
      {props.error ? <div class="field-error">{props.error}</div> : null}
    </div>
  );
}

/** The login form. */
export function LoginPage(props: { error?: string; email?: string; signupOpen: boolean }) {
  return (
    <Layout title="Log in to your dashboard">
      <div class="auth">
        {props.error ? (
          <p class="notice error" role="alert">
            {props.error}
          </p>
        ) : null}
        <div class="card">
          <form method="post" action="/dashboard/login">
            <Field name="email" label="E-mail" type="email" value={props.email ?? ''} autocomplete="username" />
            <Field name="password" label="Password" type="password" autocomplete="current-password" />
            <button type="submit" class="primary">
              Log in
            </button>
          </form>
          {props.signupOpen ? (
            <p class="muted">
              No account yet? <a href="/dashboard/signup">Sign up</a>
            </p>
          ) : null}
        </div>
        <details class="card">
          <summary>Log in with a secret API key instead</summary>
          <form method="post" action="/dashboard/login">
            <Field name="api_key" label="Secret API key" type="password" />
            <button type="submit">Log in with the key</button>
          </form>
        </details>
      </div>
    </Layout>
  );
}

export type SignupErrors = Partial<Record<'email' | 'password' | 'business_name' | 'webhook_url' | 'form', string>>;

/** The sign-up form. */
export function SignupPage(props: { errors?: SignupErrors; values?: Record<string, string> }) {
  const e = props.errors ?? {};
  const v = props.values ?? {};
  return (
    <Layout title="Create your merchant account">
      <div class="auth">
        {e.form ? (
          <p class="notice error" role="alert">
            {e.form}
          </p>
        ) : null}
        <div class="card">
          <form method="post" action="/dashboard/signup">
            <Field name="business_name" label="Business name" value={v.business_name ?? ''} error={e.business_name} />
            <Field
              name="email"
              label="E-mail"
              type="email"
              value={v.email ?? ''}
              error={e.email}
              autocomplete="username"
            />
            <Field
              name="password"
              label="Password"
              type="password"
              error={e.password}
              autocomplete="new-password"
              hint="At least 12 characters."
            />
            <Field
              name="webhook_url"
              label="Webhook endpoint URL (optional)"
              type="url"
              value={v.webhook_url ?? ''}
              error={e.webhook_url}
              hint="Where we POST signed payment events; https, or http on localhost. You can add it later."
            />
            <button type="submit" class="primary">
              Create account
            </button>
          </form>
          <p class="muted">
            Already have an account? <a href="/dashboard/login">Log in</a>
          </p>
        </div>
      </div>
    </Layout>
  );
}

/** After sign-up: the test key and signing secret, shown this once. */
export function WelcomePage(props: { view: DashView; apiKey: string; webhookSecret: string }) {
  return (
    <Layout title={`Welcome, ${props.view.merchant.name}`} view={props.view}>
      <p>Your account is ready, in test mode. Keep these two secrets somewhere safe: they are not shown again.</p>
      <ShownOnce label="Secret API key" value={props.apiKey} />
      <div class="secret">
        <strong>Webhook signing secret</strong> — shown once, copy it now: <code>{props.webhookSecret}</code>
      </div>
      <div class="card">
        <p>
          Create a payment session with <code>POST /v1/payment_sessions</code> and the key as a Bearer token; your
          payments appear under <a href="/dashboard">Payments</a>. Webhook endpoints are under{' '}
          <a href="/dashboard/webhooks">Webhooks</a>, more keys under <a href="/dashboard/settings">API keys</a>.
        </p>
      </div>
    </Layout>
  );
}
