// The invoice page's script, served as /assets/invoice.js (an external script: no inline code, so a
// strict Content-Security-Policy fits). It joins the invoice's WebSocket room; on every message about
// the invoice or its attempts it re-reads the page itself (same origin, the owner's cookie) and swaps
// the #invoice-live block, so that the status, what can be paid, the last payment's outcome, "Pay
// now" and the attempts table all come from the one server rendering. When the socket cannot connect
// it polls the status endpoint and re-reads the page when something changed; while a payment is in
// progress it warns before the page is left.
export const INVOICE_JS = `(function () {
  'use strict';
  var first = document.getElementById('invoice-status');
  if (!first) return;
  var id = first.getAttribute('data-invoice');
  var polling = null;
  var live = false;
  var loading = false;
  var again = false;
  var seen = null;
  function statusEl() { return document.getElementById('invoice-status'); }
  function current() { var el = statusEl(); return el ? el.getAttribute('data-status') : null; }
  function inProgress() { var el = statusEl(); return !!el && el.getAttribute('data-in-progress') === 'true'; }
  function markLive() { var el = statusEl(); if (!el) return; if (live) el.setAttribute('data-live', 'true'); else el.removeAttribute('data-live'); }
  function reload() {
    if (loading) { again = true; return; }
    loading = true;
    // With the query: what the page was opened to say ("checked just now", "unavailable") stays said.
    fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('invoice-live');
        var old = document.getElementById('invoice-live');
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
        markLive();
        if (current() !== 'open') stopPolling();
      })
      .catch(function () {})
      .then(function () { loading = false; if (again) { again = false; reload(); } });
  }
  function onNews(s) {
    if (!s || s.invoiceId && s.invoiceId !== id) return;
    var key = (s.status || '') + '|' + (s.attemptId || '') + '|' + (s.attemptStatus || '') + '|' + (s.refund ? s.refund.id + s.refund.status : '');
    if (s.type === 'poll' && key === seen) return;
    seen = key;
    if (s.type === 'poll' && s.status === current() && !s.attemptStatus) return;
    reload();
  }
  function poll() {
    fetch('/api/invoices/' + id + '/status', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) onNews({ type: 'poll', status: s.status, attemptId: s.attempt && s.attempt.id, attemptStatus: s.attempt && s.attempt.status }); })
      .catch(function () {});
  }
  function startPolling() { if (!polling && current() === 'open') polling = setInterval(poll, 3000); }
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
      if (f.type === 'message' && f.payload) onNews(f.payload);
      if (f.type === 'joined') { live = true; markLive(); }
      if (f.type === 'error') startPolling();
    };
    ws.onclose = function () { live = false; markLive(); startPolling(); if (opened && current() === 'open') setTimeout(connect, 2000); };
  }
  window.addEventListener('beforeunload', function (e) {
    if (inProgress() && current() === 'open') { e.preventDefault(); e.returnValue = ''; return ''; }
  });
  if (current() === 'open') connect();
})();
`;
