// The Balance card of the dashboard's home: the merchant's balance per currency, from the ledger.
import type { MerchantBalance } from '../domain/ledger.balance.ts';
import { money$ } from './dashboard-format.ts';

/** Pending, available, fees and refunded per currency; a line saying so before the first payment. */
export function BalanceCard(props: { balances: readonly MerchantBalance[] }) {
  return (
    <div class="card" id="balance">
      <h2>Balance</h2>
      {props.balances.length === 0 ? (
        <p class="muted">No money has moved yet: the balance starts with the first authorised payment.</p>
      ) : (
        <table>
          <tr>
            <th>Currency</th>
            <th>Pending</th>
            <th>Available</th>
            <th>Fees</th>
            <th>Refunded</th>
          </tr>
          {props.balances.map((b) => (
            <tr>
              <td>{b.currency}</td>
              <td class="num" data-balance="pending">
                {money$(b.pending, b.currency)}
              </td>
              <td class="num" data-balance="available">
                {money$(b.available, b.currency)}
              </td>
              <td class="num" data-balance="fees">
                {money$(b.fees, b.currency)}
              </td>
              <td class="num" data-balance="refunded">
                {money$(b.refunded, b.currency)}
              </td>
            </tr>
          ))}
        </table>
      )}
      <p class="muted">
        Pending: authorised, not yet captured. Available: captured, less fees and refunds. The same figures answer{' '}
        <code>GET /v1/balance</code>.
      </p>
    </div>
  );
}
