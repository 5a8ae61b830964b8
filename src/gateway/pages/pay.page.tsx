// The hosted payment page. Server-rendered; its only script is /pay/assets/pay.js (CSP: no inline
// script, nothing third-party). The card form posts to the gateway's own origin only.
import { formatMoney, money, type Currency } from '../../core/money.ts';
import { TEST_CARDS } from '../../core/test-cards.ts';
import type { MerchantRow, SessionRow } from '../storage/tables.ts';

/** The full page for a session. */
export function PayPage(props: { session: SessionRow; merchant: MerchantRow }) {
  const { session: s, merchant } = props;
  const amount = formatMoney(money(s.amountMinor, s.currency as Currency));
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Pay {merchant.name}</title>
        <link rel="stylesheet" href="/pay/assets/pay.css" />
      </head>
      <body>
        <main id="pay" data-session={s.id} data-expires={s.expiresAt.toISOString()} data-status={s.status}>
          <h1>{merchant.name}</h1>
          <p class="meta">{s.description}</p>
          <p class="amount" id="amount">
            {amount}
          </p>
          <p class="meta">
            Reference: <span id="reference">{s.merchantReference}</span>
          </p>
          <p class="meta" id="countdown" aria-live="off"></p>
          <div id="stage" class="stage" role="status" aria-live="polite"></div>
          <form id="card-form" novalidate hidden={s.status !== 'created'}>
            <label for="number">Card number</label>
            <input id="number" name="number" inputmode="numeric" autocomplete="cc-number" />
            <div class="error" id="error-number"></div>
            <label for="exp">Expiry (MM/YY)</label>
            <input id="exp" name="exp" autocomplete="cc-exp" placeholder="MM/YY" />
            <div class="error" id="error-expiry"></div>
            <label for="cvc">Security code (CVC)</label>
            <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" />
            <div class="error" id="error-cvc"></div>
            <label for="name">Name on the card</label>
            <input id="name" name="name" autocomplete="cc-name" />
            <div class="error" id="error-name"></div>
            <button type="submit" id="submit">
              Pay {amount}
            </button>
          </form>
          <p class="links">
            <a id="return" href={s.returnUrl ?? '#'} hidden>
              Return to {merchant.name}
            </a>
            {s.cancelUrl || s.returnUrl ? (
              <a id="cancel" href={s.cancelUrl ?? s.returnUrl ?? '#'} hidden={s.status !== 'created'}>
                Cancel and go back to {merchant.name}
              </a>
            ) : null}
          </p>
          <section>
            <h2>Test cards</h2>
            <p class="meta">Any future expiry, CVC 123, any name.</p>
            <table>
              {TEST_CARDS.map((card) => (
                <tr>
                  <td>
                    <button type="button" class="card" data-card={card.number}>
                      {card.number}
                    </button>
                  </td>
                  <td>{card.label}</td>
                </tr>
              ))}
            </table>
          </section>
        </main>
        <script src="/pay/assets/pay.js" defer></script>
      </body>
    </html>
  );
}
