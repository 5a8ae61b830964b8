// The invoice page's script, served as /assets/invoice.js (an external script: no inline code, so a
// strict Content-Security-Policy fits). It joins the invoice's WebSocket room and re-renders the
// status block on every message; when the socket cannot connect it polls the status endpoint; while
// a payment is in progress it warns before the page is left.
export const INVOICE_JS = `(function () {
  'use strict';
  var el = document.getElementById('invoice-status');
  if (!el) return;
  var id = el.getAttribute('data-invoice');
  var inProgress = el.getAttribute('data-in-progress') === 'true';
  var current = el.getAttribute('data-status');
  var polling = null;
  var MESSAGES = {
    open: 'This invoice is waiting for payment.',
    paid: 'Paid — thank you.',
    expired: 'This invoice expired unpaid. Open the order to get a new one.',
    voided: 'This invoice was replaced. Open the order to get a new one.',
    cancelled: 'This order was cancelled.',
    refunded: 'This payment was refunded.'
  };
  function render(s) {
    if (!s || !s.status) return;
    if (s.attemptStatus === 'pending') inProgress = true;
    if (s.status === current && !s.attemptStatus) return;
    current = s.status;
    el.setAttribute('data-status', s.status);
    var badge = el.querySelector('.status');
    if (badge) { badge.className = 'status ' + s.status; badge.textContent = s.status.replace('_', ' '); }
    var msg = document.getElementById('payment-message');
    if (msg && s.status !== 'open') {
      msg.textContent = MESSAGES[s.status] || s.status;
      if (s.status === 'paid' && el.getAttribute('data-order')) {
        var a = document.createElement('a');
        a.href = '/orders/' + el.getAttribute('data-order') + '/receipt';
        a.textContent = ' See the receipt';
        msg.appendChild(a);
      }
    }
    var pay = document.getElementById('pay-actions');
    if (pay && s.status !== 'open') pay.hidden = true;
    var valid = document.querySelector('[data-testid=invoice-valid]');
    if (valid) valid.textContent = s.status === 'open' ? 'yes' : 'no';
    if (s.status !== 'open') { inProgress = false; stopPolling(); }
  }
  function poll() {
    fetch('/api/invoices/' + id + '/status', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(render)
      .catch(function () {});
  }
  function startPolling() { if (!polling && current === 'open') polling = setInterval(poll, 3000); }
  function stopPolling() { if (polling) { clearInterval(polling); polling = null; } }
  function connect() {
    var ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    } catch (e) { startPolling(); return; }
    var opened = false;
    ws.onopen = function () { opened = true; stopPolling(); ws.send(JSON.stringify({ type: 'join', room: 'invoice:' + id })); poll(); };
    ws.onmessage = function (m) {
      var f; try { f = JSON.parse(m.data); } catch (e) { return; }
      if (f.type === 'message' && f.payload) render(f.payload);
      if (f.type === 'joined') el.setAttribute('data-live', 'true');
      if (f.type === 'error') startPolling();
    };
    ws.onclose = function () { el.removeAttribute('data-live'); startPolling(); if (opened && current === 'open') setTimeout(connect, 2000); };
  }
  window.addEventListener('beforeunload', function (e) {
    if (inProgress && current === 'open') { e.preventDefault(); e.returnValue = ''; return ''; }
  });
  if (current === 'open') connect();
})();
`;
