// The shop's one stylesheet, served at /assets/shop.css: system fonts, a narrow readable column,
// cards that stack on a phone, forms whose errors sit under their field.

/** Placeholder colours come in steps of this many degrees, one class each. */
const HUE_STEP = 15;

/** The class of a product placeholder's colour: its hue rounded to the nearest step. */
export function hueClass(hue: number): string {
  const step = Math.round((Number.isFinite(hue) ? hue : 0) / HUE_STEP) * HUE_STEP;
  return `hue-${((step % 360) + 360) % 360}`;
}

// A product's colour is data (its hue) but the CSP allows no inline style: one class per step.
const HUE_CSS = Array.from({ length: 360 / HUE_STEP }, (_, i) => i * HUE_STEP)
  .map((h) => `.hue-${h} { background:linear-gradient(135deg,hsl(${h} 55% 45%),hsl(${(h + 40) % 360} 60% 35%)); }`)
  .join('\n');

export const SHOP_CSS = `
:root { --ink:#1d232b; --muted:#5d6875; --line:#e3e7ec; --bg:#f6f7f9; --card:#fff; --brand:#1f6f5c; --brand-ink:#fff; --danger:#b3261e; --warn:#8a5a00; --ok:#1f6f3c; --radius:10px; }
* { box-sizing: border-box; }
[hidden] { display:none !important; } /* beats .actions' flex: the invoice script hides "Pay now" once paid */
html { -webkit-text-size-adjust: 100%; }
body { margin:0; font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
a { color:var(--brand); }
header.site { background:var(--card); border-bottom:1px solid var(--line); }
header.site .bar { max-width:1040px; margin:0 auto; padding:.75rem 1rem; display:flex; flex-wrap:wrap; gap:.75rem 1.25rem; align-items:center; }
header.site .logo { font-weight:700; font-size:1.15rem; text-decoration:none; color:var(--ink); margin-right:auto; }
header.site nav { display:flex; flex-wrap:wrap; gap:.25rem 1rem; align-items:center; }
header.site nav a { text-decoration:none; }
header.site form { display:inline; margin:0; }
.badge { display:inline-block; min-width:1.4em; padding:0 .4em; border-radius:999px; background:var(--brand); color:var(--brand-ink); font-size:.8rem; text-align:center; }
main { max-width:1040px; margin:0 auto; padding:1.25rem 1rem 3rem; }
h1 { font-size:1.6rem; margin:.25rem 0 1rem; }
h2 { font-size:1.2rem; margin:1.5rem 0 .75rem; }
.muted { color:var(--muted); }
.grid { display:grid; gap:1rem; grid-template-columns:repeat(auto-fill,minmax(160px,1fr)); }
.card { background:var(--card); border:1px solid var(--line); border-radius:var(--radius); padding:1rem; }
.card > :first-child { margin-top:0; }
.card > :last-child { margin-bottom:0; }
.product-card { display:flex; flex-direction:column; gap:.5rem; }
.product-card a.title { font-weight:600; text-decoration:none; color:var(--ink); }
.placeholder { aspect-ratio:4/3; border-radius:8px; display:flex; align-items:center; justify-content:center; color:#fff; font-weight:700; font-size:2rem; letter-spacing:.05em; }
.price { font-weight:700; font-variant-numeric:tabular-nums; }
.product { display:grid; gap:1.5rem; grid-template-columns:1fr; }
@media (min-width:720px) { .product { grid-template-columns:1fr 1fr; } }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:var(--radius); overflow:hidden; }
th, td { padding:.6rem .75rem; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { font-size:.85rem; color:var(--muted); font-weight:600; background:#fafbfc; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tfoot td { font-weight:600; }
.table-wrap { overflow-x:auto; }
td, td code { overflow-wrap:anywhere; }
td .status { overflow-wrap:normal; white-space:nowrap; }
td code { white-space:pre-wrap; font-size:.85rem; }
table.fit { table-layout:fixed; }
table.audit th:nth-child(1) { width:3.5rem; }
table.audit th:nth-child(2) { width:7rem; }
table.audit th:nth-child(7) { width:7.5rem; }
.muted.id { font-size:.8rem; font-weight:400; }
form.filters { display:flex; flex-wrap:wrap; gap:.75rem 1rem; align-items:flex-end; margin:1rem 0; }
form.filters .field { flex:1 1 10rem; min-width:0; }
form.filters .field:first-child { flex:3 1 16rem; }
form.filters .field input, form.filters .field select { width:100%; font:inherit; padding:.45rem .6rem; border:1px solid #c5ccd4; border-radius:8px; background:#fff; }
form.filters .actions { margin-top:0; }
.pager { justify-content:space-between; }
.button, button { display:inline-block; font:inherit; font-weight:600; padding:.6rem 1.1rem; border-radius:8px; border:1px solid var(--brand); background:var(--brand); color:var(--brand-ink); cursor:pointer; text-decoration:none; }
.button.secondary, button.secondary { background:var(--card); color:var(--brand); }
button.link { background:none; border:none; color:var(--brand); padding:0; font-weight:400; text-decoration:underline; }
button.danger { background:var(--danger); border-color:var(--danger); }
.actions { display:flex; flex-wrap:wrap; gap:.75rem; align-items:center; margin-top:1rem; }
form.stack { display:grid; gap:.9rem; max-width:480px; }
.field label { display:block; font-weight:600; margin-bottom:.25rem; }
.field input:not([type]), .field input[type=text], .field input[type=email], .field input[type=password], .field input[type=number], .field textarea, .field select { width:100%; font:inherit; padding:.55rem .65rem; border:1px solid #c5ccd4; border-radius:8px; background:#fff; }
.field.invalid input, .field.invalid textarea, .field.invalid select { border-color:var(--danger); }
.field .error { color:var(--danger); font-size:.9rem; margin-top:.25rem; }
.field .hint { color:var(--muted); font-size:.85rem; }
.notice { padding:.75rem 1rem; border-radius:8px; border:1px solid var(--line); background:var(--card); margin:0 0 1rem; }
.notice.error { border-color:#f0c2bf; background:#fdf1f0; color:var(--danger); }
.notice.ok { border-color:#bfe0c9; background:#effaf2; color:var(--ok); }
.status { display:inline-block; padding:.1rem .55rem; border-radius:999px; font-size:.85rem; font-weight:600; background:#eef1f4; color:var(--muted); }
.status.paid, .status.open.valid { background:#e4f4e9; color:var(--ok); }
.status.awaiting_payment, .status.open { background:#fff4dc; color:var(--warn); }
.status.cancelled, .status.voided, .status.expired, .status.refunded, .status.reversed { background:#f1f1f1; color:var(--muted); }
.steps { display:flex; flex-wrap:wrap; gap:.5rem; list-style:none; padding:0; margin:0 0 1.25rem; counter-reset:step; }
.steps li { counter-increment:step; padding:.35rem .75rem; border-radius:999px; background:var(--card); border:1px solid var(--line); color:var(--muted); font-size:.9rem; }
.steps li::before { content:counter(step) ". "; }
.steps li.current { border-color:var(--brand); color:var(--brand); font-weight:600; }
.steps li.done { color:var(--ink); }
.options { display:grid; gap:.6rem; }
.option { display:flex; gap:.75rem; align-items:flex-start; padding:.75rem 1rem; border:1px solid var(--line); border-radius:var(--radius); background:var(--card); cursor:pointer; }
.option input { margin-top:.3rem; }
.option .grow { flex:1; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.35rem 1rem; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; font-variant-numeric:tabular-nums; word-break:break-all; }
.two { display:grid; gap:1rem; grid-template-columns:1fr; }
@media (min-width:820px) { .two { grid-template-columns:2fr 1fr; } }
.denied { text-align:center; padding:3rem 1rem; }
.denied-login { margin-bottom:1rem; max-width:480px; }
.denied-login h1 { margin-top:0; }
.archived { color:var(--muted); font-size:.8rem; }
footer.site { color:var(--muted); font-size:.85rem; text-align:center; padding:2rem 1rem; }
.inline-form { display:inline-flex; gap:.4rem; align-items:center; margin:0; }
.inline-form input[type=number] { width:4.5rem; font:inherit; padding:.35rem .4rem; border:1px solid #c5ccd4; border-radius:6px; }
.inline-form input[type=text] { width:7rem; font:inherit; padding:.35rem .4rem; border:1px solid #c5ccd4; border-radius:6px; }
${HUE_CSS}
`;
