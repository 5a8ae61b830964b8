// The bank app: the cardholder's open approval requests (pushed in real time over WebSocket), their
// accounts, holds and recent movements. Works without JavaScript (forms), better with it (live push,
// countdown, answers without a reload).
import { formatMoney, parseCurrency } from '../../core/money.ts';
import { Layout } from './layout.tsx';

export interface ApprovalItem {
  id: string;
  merchantName: string;
  description: string;
  amountMinor: bigint;
  currency: string;
  cardLast4: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface ActivityData {
  accounts: { id: string; name: string; currency: string; balanceMinor: bigint; heldMinor: bigint }[];
  holds: { id: string; merchantName: string; heldMinor: bigint; currency: string; status: string }[];
  movements: {
    id: string;
    kind: string;
    amountMinor: bigint;
    currency: string;
    description: string;
    createdAt: Date;
    accountName: string;
  }[];
}

export interface CardItem {
  id: string;
  number: string;
  expMonth: number;
  expYear: number;
  policy: string;
  label: string;
  accountName: string;
}

const POLICY_TEXT: Record<string, string> = {
  standard: 'approved at once',
  decline: 'always declined',
  approval: 'asks you in this app',
  delayed: 'approved after a short delay',
};

function Cards(props: { cards: CardItem[] }) {
  return (
    <div id="cards">
      <h2>Your cards</h2>
      <ul class="list">
        {props.cards.map((card) => (
          <li data-card-id={card.id}>
            <span>
              {card.label}
              <br />
              <span class="meta">
                {card.number.replace(/(\d{4})(?=\d)/g, '$1 ')} · {String(card.expMonth).padStart(2, '0')}/
                {String(card.expYear).slice(-2)} · {POLICY_TEXT[card.policy] ?? card.policy} · {card.accountName}
              </span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

const fmt = (minor: bigint, currency: string) => formatMoney({ minor, currency: parseCurrency(currency) });

function ApprovalCard(props: { item: ApprovalItem; csrf: string; now: Date }) {
  const { item } = props;
  const seconds = Math.max(0, Math.ceil((item.expiresAt.getTime() - props.now.getTime()) / 1000));
  return (
    <div class="card approval" data-approval-id={item.id} data-expires-at={item.expiresAt.toISOString()}>
      <div class="merchant">{item.merchantName}</div>
      <div class="amount">{fmt(item.amountMinor, item.currency)}</div>
      <div class="meta">
        {item.description ? `${item.description} · ` : ''}card •••• {item.cardLast4}
      </div>
      <div class="meta">
        Time left: <span class="left">{`${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`}</span>
      </div>
      <div class="actions">
        <form method="post" action={`/app/approvals/${item.id}/approve`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button class="approve" type="submit" data-answer="approve">
            Approve
          </button>
        </form>
        <form method="post" action={`/app/approvals/${item.id}/decline`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button class="decline" type="submit" data-answer="decline">
            Decline
          </button>
        </form>
      </div>
      <div class="outcome" aria-live="polite"></div>
    </div>
  );
}

/** Balances, holds and movements; also served alone at /app/activity for live refresh. */
export function Activity(props: { data: ActivityData }) {
  const { accounts, holds, movements } = props.data;
  return (
    <div id="activity">
      <h2>Accounts</h2>
      {accounts.map((a) => (
        <div class="card" data-account-id={a.id}>
          <div class="merchant">{a.name}</div>
          <div class="amount" data-available>
            {fmt(a.balanceMinor - a.heldMinor, a.currency)}
          </div>
          <div class="meta">
            available · balance {fmt(a.balanceMinor, a.currency)} · on hold {fmt(a.heldMinor, a.currency)}
          </div>
        </div>
      ))}
      <h2>On hold</h2>
      {holds.length === 0 ? <p class="empty">Nothing on hold.</p> : null}
      <ul class="list" id="holds">
        {holds.map((h) => (
          <li data-hold-id={h.id}>
            <span>
              {h.merchantName} <span class="meta">({h.status === 'pending' ? 'awaiting approval' : 'authorised'})</span>
            </span>
            <span class="amt neg">−{fmt(h.heldMinor, h.currency)}</span>
          </li>
        ))}
      </ul>
      <h2>Recent movements</h2>
      {movements.length === 0 ? <p class="empty">No movements yet.</p> : null}
      <ul class="list" id="movements">
        {movements.map((m) => (
          <li data-movement-id={m.id} data-kind={m.kind}>
            <span>
              {m.description}
              <br />
              <span class="meta">
                {m.accountName} · {m.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC
              </span>
            </span>
            <span class={m.amountMinor < 0n ? 'amt neg' : 'amt pos'}>
              {m.amountMinor < 0n ? '−' : '+'}
              {fmt(m.amountMinor < 0n ? -m.amountMinor : m.amountMinor, m.currency)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

// The page's behaviour: join the cardholder's room after the cursor the page was rendered at (so a
// request created in between is replayed, not lost), render pushed requests, count down, answer with
// fetch + CSRF header, refresh the activity after each outcome, reconnect and resume on a drop.
const CLIENT = `
(() => {
  const body = document.body;
  const room = body.dataset.room, csrf = body.dataset.csrf;
  let cursor = body.dataset.cursor;
  const offset = Date.parse(body.dataset.serverNow) - Date.now();
  const list = document.getElementById('approvals');
  const empty = document.getElementById('no-approvals');
  const now = () => Date.now() + offset;
  const fmtLeft = (ms) => { const s = Math.max(0, Math.ceil(ms / 1000)); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
  const syncEmpty = () => { empty.hidden = list.querySelector('[data-approval-id]') !== null; };
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

  function addApproval(a) {
    if (list.querySelector('[data-approval-id="' + CSS.escape(a.id) + '"]')) return;
    if (Date.parse(a.expiresAt) <= now()) return;
    const card = el('div', 'card approval'); card.dataset.approvalId = a.id; card.dataset.expiresAt = a.expiresAt;
    card.append(el('div', 'merchant', a.merchant), el('div', 'amount', a.amountText),
      el('div', 'meta', (a.description ? a.description + ' · ' : '') + 'card •••• ' + a.cardLast4));
    const meta = el('div', 'meta', 'Time left: '); meta.append(el('span', 'left', fmtLeft(Date.parse(a.expiresAt) - now()))); card.append(meta);
    const actions = el('div', 'actions');
    for (const [answer, label] of [['approve', 'Approve'], ['decline', 'Decline']]) {
      const form = el('form'); form.method = 'post'; form.action = '/app/approvals/' + a.id + '/' + answer;
      const b = el('button', answer, label); b.type = 'submit'; b.dataset.answer = answer; form.append(b); actions.append(form);
    }
    card.append(actions, el('div', 'outcome'));
    card.querySelector('.outcome').setAttribute('aria-live', 'polite');
    list.append(card); wire(card); syncEmpty();
  }

  function settle(card, text) {
    card.querySelectorAll('button').forEach((b) => (b.disabled = true));
    card.querySelector('.outcome').textContent = text;
    card.dataset.settled = 'true';
    setTimeout(() => { card.remove(); syncEmpty(); }, 2500);
  }

  const OUTCOME = { approved: 'Approved ✓', declined: 'Declined', expired: 'Expired — not paid', cancelled: 'Cancelled by the merchant' };

  function wire(card) {
    card.querySelectorAll('form').forEach((form) => form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const answer = form.querySelector('button').dataset.answer;
      card.querySelectorAll('button').forEach((b) => (b.disabled = true));
      try {
        const res = await fetch('/app/approvals/' + card.dataset.approvalId + '/' + answer, {
          method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' }, credentials: 'same-origin' });
        const data = await res.json().catch(() => ({}));
        if (res.ok) settle(card, OUTCOME[data.status] || data.status);
        else settle(card, (data.error && data.error.message) || 'Could not answer');
      } catch { card.querySelectorAll('button').forEach((b) => (b.disabled = false)); }
      refreshActivity();
    }));
  }

  async function refreshActivity() {
    const res = await fetch('/app/activity', { credentials: 'same-origin' });
    if (!res.ok) return;
    document.getElementById('activity').outerHTML = await res.text();
  }

  function onPayload(p) {
    if (p.type === 'approval.requested') addApproval(p.approval);
    if (p.type === 'approval.resolved') {
      const card = list.querySelector('[data-approval-id="' + CSS.escape(p.approvalId) + '"]');
      if (card && !card.dataset.settled) settle(card, OUTCOME[p.status] || p.status);
      refreshActivity();
    }
    if (p.type === 'approval.requested') refreshActivity();
  }

  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room, after: cursor }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'message') { cursor = f.id; onPayload(f.payload); }
      else if (f.type === 'joined') { cursor = f.cursor; body.dataset.live = 'true'; if (f.gap) location.reload(); }
      else if (f.type === 'error' && f.code === 'access.denied') location.href = '/login';
    };
    ws.onclose = () => { body.dataset.live = 'false'; setTimeout(connect, 1000); };
  }

  setInterval(() => {
    list.querySelectorAll('[data-approval-id]').forEach((card) => {
      if (card.dataset.settled) return;
      const left = Date.parse(card.dataset.expiresAt) - now();
      card.querySelector('.left').textContent = fmtLeft(left);
      if (left <= 0) settle(card, 'Expired — not paid');
    });
  }, 250);
  list.querySelectorAll('[data-approval-id]').forEach(wire);
  syncEmpty();
  connect();
})();
`;

/** The whole app page. */
export function AppPage(props: {
  name: string;
  cardholderId: string;
  csrf: string;
  cursor: string;
  now: Date;
  approvals: ApprovalItem[];
  activity: ActivityData;
  cards: CardItem[];
  nonce: string;
}) {
  return (
    <Layout
      title="countersign bank"
      nonce={props.nonce}
      bodyAttrs={{
        'data-room': `cardholder:${props.cardholderId}`,
        'data-csrf': props.csrf,
        'data-cursor': props.cursor,
        'data-server-now': props.now.toISOString(),
        'data-live': 'false',
      }}
    >
      <header>
        <h1>Hello, {props.name}</h1>
        <a href="/app/disputes">Disputes</a>
        <form method="post" action="/logout">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button class="link" type="submit">
            Log out
          </button>
        </form>
      </header>
      <div class="live">● live</div>
      <h2>Approval requests</h2>
      <div id="approvals">
        {props.approvals.map((item) => (
          <ApprovalCard item={item} csrf={props.csrf} now={props.now} />
        ))}
      </div>
      <p class="empty" id="no-approvals" hidden={props.approvals.length > 0}>
        No payments waiting for your approval.
      </p>
      <Activity data={props.activity} />
      <Cards cards={props.cards} />
      <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: CLIENT }} />
    </Layout>
  );
}
