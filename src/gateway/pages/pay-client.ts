// The hosted page's script, served from /pay/assets/pay.js (same origin; the CSP allows no inline
// script and nothing third-party). Plain ES2017 in a string: it checks the card form inline,
// submits it as JSON, and polls the session's status endpoint to show each stage live.
export const PAY_SCRIPT = String.raw`
(function () {
  'use strict';
  var root = document.getElementById('pay');
  if (!root) return;
  var sessionId = root.getAttribute('data-session');
  var expiresAt = Date.parse(root.getAttribute('data-expires'));
  var form = document.getElementById('card-form');
  var stage = document.getElementById('stage');
  var countdown = document.getElementById('countdown');
  var back = document.getElementById('return');
  var cancel = document.getElementById('cancel');
  var submit = document.getElementById('submit');
  var polling = null;
  var watching = null;
  var approvalUntil = null;
  var busy = false;
  var submittedHere = false;
  var inFlight = false;

  function luhn(d) {
    if (!/^\d{12,19}$/.test(d)) return false;
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var n = d.charCodeAt(d.length - 1 - i) - 48;
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  }
  function setError(field, message) {
    var el = document.getElementById('error-' + field);
    var input = document.getElementById(field === 'expiry' ? 'exp' : field);
    if (el) el.textContent = message || '';
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }
  function check() {
    var ok = true;
    var number = form.number.value.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(number)) { setError('number', 'Enter the card number (12 to 19 digits).'); ok = false; }
    else if (!luhn(number)) { setError('number', 'This card number is not valid; check the digits.'); ok = false; }
    else setError('number', '');
    var m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(form.exp.value);
    if (!m || +m[1] < 1 || +m[1] > 12) { setError('expiry', 'Enter the expiry as MM/YY.'); ok = false; }
    else {
      var y = +m[2] < 100 ? 2000 + +m[2] : +m[2];
      var now = new Date();
      if (y < now.getFullYear() || (y === now.getFullYear() && +m[1] < now.getMonth() + 1)) { setError('expiry', 'This card has expired.'); ok = false; }
      else setError('expiry', '');
    }
    if (!/^\d{3,4}$/.test(form.cvc.value.trim())) { setError('cvc', 'Enter the 3 or 4 digit security code.'); ok = false; } else setError('cvc', '');
    if (form.name.value.trim() === '') { setError('name', 'Enter the name on the card.'); ok = false; } else setError('name', '');
    return ok;
  }

  var STAGES = {
    created: null,
    processing: ['busy', 'Sending your payment to your bank…'],
    requires_approval: ['busy', 'Your bank is checking this payment. This can take a few moments; you need do nothing. Please keep this page open.'],
    authorized: ['busy', 'Approved by your bank. Waiting for the shop to confirm…'],
    captured: ['ok', 'Paid. Thank you!'],
    partially_refunded: ['ok', 'Paid (partly refunded).'],
    refunded: ['ok', 'Paid and refunded.'],
    declined: ['bad', 'Your payment was declined. You were not charged.'],
    voided: ['bad', 'The shop could not accept this payment. You were not charged.'],
    expired: ['bad', 'This payment session has expired. You were not charged.'],
    canceled: ['bad', 'The shop closed this payment page: the invoice was replaced or can no longer be paid. Do not enter a card here; you were not charged. Go back to the shop to pay the current invoice.']
  };
  var FINAL = ['captured', 'partially_refunded', 'refunded', 'declined', 'voided', 'expired', 'canceled'];
  var REASONS = {
    insufficient_funds: 'insufficient funds', card_declined: 'the card was declined', invalid_cvc: 'the security code is wrong',
    expired_card: 'the card has expired', approval_declined: 'you declined it in your bank app', approval_expired: 'the approval request timed out'
  };

  // fromSubmit: the answer to this page's own card submission. A session's last error belongs to the
  // attempt that made it: after a reload it is old news, and the form is simply ready again.
  function show(s, fromSubmit) {
    root.setAttribute('data-status', s.status);
    var st = STAGES[s.status];
    // Nothing to warn about once the page offers the way back (a Stripe session authorised, awaiting capture).
    busy = ['processing', 'requires_approval', 'authorized'].indexOf(s.status) >= 0 && !s.return_url;
    approvalUntil = s.status === 'requires_approval' && s.approval_expires_at ? Date.parse(s.approval_expires_at) : null;
    if (cancel) cancel.hidden = s.status !== 'created';
    if (s.status === 'created') {
      form.hidden = false;
      submit.disabled = false;
      countdown.hidden = false;
      if (!watching) watching = setInterval(refresh, 4000);
      if (!fromSubmit && !submittedHere) { stage.className = 'stage'; stage.textContent = ''; }
      else if (s.last_error === 'gateway_error') { stage.className = 'stage bad'; stage.textContent = 'A gateway error stopped this attempt. You were not charged; you can try again.'; }
      else if (s.last_error === 'bank_unavailable') { stage.className = 'stage bad'; stage.textContent = 'The bank could not be reached. You were not charged; you can try again.'; }
      else { stage.className = 'stage'; stage.textContent = ''; }
      return;
    }
    form.hidden = true;
    if (watching) { clearInterval(watching); watching = null; }
    if (back && s.return_url) { back.href = s.return_url; back.hidden = false; }
    stage.className = 'stage ' + st[0];
    var text = st[1];
    if (approvalUntil) text = 'Waiting for your approval in your bank app: open the app and approve this payment before the time below runs out.';
    if (s.status === 'declined' && s.decline_reason && REASONS[s.decline_reason]) text = 'Your payment was declined: ' + REASONS[s.decline_reason] + '. You were not charged.';
    stage.textContent = text;
    if (FINAL.indexOf(s.status) >= 0) {
      if (polling) { clearInterval(polling); polling = null; }
      countdown.hidden = true;
    } else {
      tick();
      if (!polling) polling = setInterval(refresh, 1000);
    }
  }
  function refresh(fromSubmit) {
    if (inFlight && fromSubmit !== true) return;
    fetch('/pay/' + sessionId + '/status', { headers: { accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (s) { show(s, fromSubmit === true); })
      .catch(function () {});
  }
  function clock(until) {
    var left = Math.max(0, Math.floor((until - Date.now()) / 1000));
    return { left: left, text: Math.floor(left / 60) + ':' + ('0' + (left % 60)).slice(-2) };
  }
  // While the bank app is asked, the bank's own deadline counts (not the page's); while the bank
  // decides by itself there is nothing to count down.
  function tick() {
    var status = root.getAttribute('data-status');
    if (approvalUntil) {
      countdown.hidden = false;
      countdown.className = 'meta approval';
      countdown.textContent = 'Approve in your bank app within ' + clock(approvalUntil).text;
      return;
    }
    if (status !== 'created') { countdown.hidden = true; return; }
    var c = clock(expiresAt);
    countdown.className = 'meta';
    countdown.textContent = 'This page expires in ' + c.text;
    if (c.left === 0) refresh();
  }
  window.addEventListener('beforeunload', function (e) {
    if (busy) { e.preventDefault(); e.returnValue = ''; return ''; }
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (!check()) return;
    submit.disabled = true;
    submittedHere = true;
    inFlight = true;
    busy = true;
    if (cancel) cancel.hidden = true;
    var m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(form.exp.value);
    stage.className = 'stage busy';
    stage.textContent = 'Processing your payment…';
    fetch('/pay/' + sessionId + '/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ number: form.number.value.replace(/[\s-]/g, ''), exp_month: +m[1], exp_year: +m[2], cvc: form.cvc.value.trim(), name: form.name.value.trim() })
    })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        inFlight = false;
        if (res.ok) { show(res.body, true); return; }
        var fields = res.body.error && res.body.error.details && res.body.error.details.fields;
        if (fields) { Object.keys(fields).forEach(function (k) { setError(k, fields[k]); }); stage.className = 'stage'; stage.textContent = ''; submit.disabled = false; busy = false; if (cancel) cancel.hidden = false; return; }
        refresh(true);
      })
      .catch(function () { inFlight = false; submit.disabled = false; busy = false; stage.className = 'stage bad'; stage.textContent = 'Network error. Please try again.'; });
  });
  ['number', 'exp', 'cvc', 'name'].forEach(function (id) {
    document.getElementById(id).addEventListener('blur', function () { if (form.number.value || form.exp.value) check(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-card]'), function (b) {
    b.addEventListener('click', function () { form.number.value = b.getAttribute('data-card'); form.exp.value = '12/34'; form.cvc.value = '123'; if (!form.name.value) form.name.value = 'Test Payer'; });
  });
  tick();
  setInterval(tick, 1000);
  refresh();
})();
`;

export const PAY_STYLES = `
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.3rem}.amount{font-size:2rem;font-weight:600;margin:.5rem 0}
.meta{color:#555}label{display:block;margin-top:.8rem;font-weight:600}
input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid #999;border-radius:4px}
input[aria-invalid=true]{border-color:#b00020}.error{color:#b00020;min-height:1.2em;font-size:.9rem}
button{font:inherit;padding:.6rem 1.2rem;margin-top:1rem;border-radius:4px;border:0;background:#1a56db;color:#fff;cursor:pointer}
button.card{background:#eef;color:#114;padding:.2rem .5rem;margin:.1rem}
.stage{margin:1rem 0;padding:.8rem;border-radius:4px}.stage:empty{display:none}
.busy{background:#eef4ff}.approval{font-weight:600;color:#1b1b1f}.links a{margin-right:1.2rem}.ok{background:#e6f6ea}.bad{background:#fdecea}
table{border-collapse:collapse;font-size:.9rem}td{padding:.2rem .5rem;border-bottom:1px solid #ddd}
`;
