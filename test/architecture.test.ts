// Architecture rules, checked on the source with the TypeScript compiler API (docs/architecture.md,
// "How the shape is kept"): short functions and files, parties that import nothing of each other, a pure core,
// one writer per status column (through a state machine), and comments that say what they mean.
// Each failure message lists every offender with file:line, so it can be fixed from the output alone.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const SRC = path.join(ROOT, 'src');
const MAX_FUNCTION_LINES = 120;
const MAX_FILE_LINES = 350;
const PARTIES = ['shop', 'gateway', 'bank'] as const;
/** Column names (in SQL) that hold a state: one writer each, through a machine. */
const STATUS_COLUMN = /^(status|[a-z_]+_status|state|acknowledgement)$/;
/** Column builders that hold a state name; an integer `*_status` is an HTTP status code, not a state. */
const STATE_BUILDERS = new Set(['text', 'varchar', 'char']);
const STATE_MACHINE_MODULE = path.join(SRC, 'core', 'state-machine.ts');

const rel = (file: string) => path.relative(ROOT, file);
const isTestFile = (file: string) => /\.test\.tsx?$/.test(file);

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'migrations' && entry.name !== 'node_modules') walk(full, out);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const allSrcFiles = walk(SRC).sort();
const srcFiles = allSrcFiles.filter((f) => !isTestFile(f));

const program = ts.createProgram(srcFiles, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  noEmit: true,
  jsx: ts.JsxEmit.ReactJSX,
  jsxImportSource: 'hono/jsx',
  skipLibCheck: true,
  types: [],
});
const checker = program.getTypeChecker();
const sourceOf = (file: string): ts.SourceFile => {
  const sf = program.getSourceFile(file);
  assert.ok(sf, `the compiler did not load ${rel(file)}`);
  return sf;
};
const lineOf = (sf: ts.SourceFile, pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
const where = (node: ts.Node) =>
  `${rel(node.getSourceFile().fileName)}:${lineOf(node.getSourceFile(), node.getStart())}`;

function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  ts.forEachChild(node, (child) => visit(child, fn));
}

/** A readable name for a function-like node: its own name, the variable or property it is assigned to. */
function functionName(fn: ts.Node): string | undefined {
  const named = fn as { name?: ts.Node };
  let own =
    named.name && (ts.isIdentifier(named.name) || ts.isPrivateIdentifier(named.name)) ? named.name.text : undefined;
  if (ts.isConstructorDeclaration(fn)) own = 'constructor';
  const parent = fn.parent;
  if (!own && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) own = parent.name.text;
  if (!own && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) own = parent.name.text;
  if (!own && ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) own = parent.name.text;
  if (!own) return undefined;
  const cls = ts.isClassLike(parent) ? parent : ts.isClassLike(parent.parent) ? parent.parent : undefined;
  return cls?.name ? `${cls.name.text}.${own}` : own;
}

/** The nearest enclosing named function (anonymous callbacks belong to the function that makes them). */
function enclosingFunction(node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) {
      const name = functionName(n);
      if (name) return name;
    }
  }
  return '(module top level)';
}

/** The file an import or re-export specifier resolves to (absolute), or undefined for packages. */
function resolveSpecifier(from: ts.SourceFile, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from.fileName), specifier);
}

interface ImportEdge {
  readonly node: ts.Node;
  readonly target: string;
}

function importsOf(sf: ts.SourceFile): ImportEdge[] {
  const out: ImportEdge[] = [];
  visit(sf, (n) => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) spec = n.moduleSpecifier;
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) spec = n.arguments[0];
    if (spec && ts.isStringLiteralLike(spec)) {
      const target = resolveSpecifier(sf, spec.text);
      if (target) out.push({ node: n, target });
    }
  });
  return out;
}

/** shop | gateway | bank | core | platform | (root) for a file under src/. */
function areaOf(file: string): string {
  const first = path.relative(SRC, file).split(path.sep)[0] ?? '';
  return first.includes('.') ? '(root)' : first;
}

// ---- tables and their status columns ------------------------------------------------------------------

interface StatusColumn {
  readonly id: string; // area:table.column, e.g. gateway:refunds.status (two parties both have `refunds`)
  readonly table: string; // SQL name
  readonly key: string; // the property name drizzle code uses
  readonly column: string; // SQL name
  readonly declaredAt: string;
  readonly symbol: ts.Symbol; // the table constant
}

/** The root call of a builder chain: text('status').$type<…>().notNull() → text('status'). */
function rootCall(expr: ts.Expression): ts.CallExpression | undefined {
  let root: ts.CallExpression | undefined;
  for (let e: ts.Expression = expr; ; ) {
    if (ts.isCallExpression(e)) {
      root = e;
      e = e.expression;
    } else if (ts.isPropertyAccessExpression(e)) e = e.expression;
    else return root;
  }
}

function resolveSymbol(node: ts.Node): ts.Symbol | undefined {
  let sym = checker.getSymbolAtLocation(node);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  return sym;
}

const statusColumns: StatusColumn[] = [];
const otherStatusNamed: string[] = []; // *_status columns that hold no state (integers), shown for the record
const tablesBySymbol = new Map<ts.Symbol, string>();
for (const file of srcFiles) {
  const area = areaOf(file);
  if (!['platform', ...PARTIES].includes(area)) continue;
  const sf = sourceOf(file);
  visit(sf, (n) => {
    if (!ts.isCallExpression(n) || !ts.isIdentifier(n.expression) || n.expression.text !== 'pgTable') return;
    const [nameArg, columnsArg] = n.arguments;
    if (!nameArg || !ts.isStringLiteralLike(nameArg) || !columnsArg || !ts.isObjectLiteralExpression(columnsArg))
      return;
    const decl = n.parent;
    if (!ts.isVariableDeclaration(decl) || !ts.isIdentifier(decl.name)) return;
    const symbol = checker.getSymbolAtLocation(decl.name);
    if (!symbol) return;
    tablesBySymbol.set(symbol, nameArg.text);
    for (const prop of columnsArg.properties) {
      if (!ts.isPropertyAssignment(prop) || !ts.isIdentifier(prop.name)) continue;
      const root = rootCall(prop.initializer);
      const builder = root && ts.isIdentifier(root.expression) ? root.expression.text : '';
      const colArg = root?.arguments[0];
      const column = colArg && ts.isStringLiteralLike(colArg) ? colArg.text : prop.name.text;
      if (!STATUS_COLUMN.test(column)) continue;
      const id = `${area}:${nameArg.text}.${column}`;
      const col = { id, table: nameArg.text, key: prop.name.text, column, declaredAt: where(prop), symbol };
      if (STATE_BUILDERS.has(builder)) statusColumns.push(col);
      else otherStatusNamed.push(`${id} (${builder}, ${col.declaredAt})`);
    }
  });
}

// ---- writers: drizzle .update(t).set({...}) / onConflictDoUpdate({ set }) and raw UPDATE … SET ----------

interface Write {
  readonly column: string; // table.column
  readonly fn: string; // file#function
  readonly file: string;
  readonly at: string;
  readonly how: string;
}

/** Property names a value's static type allows (for a spread or a variable): any/unknown → undefined. */
function keysOfType(expr: ts.Expression): Set<string> | undefined {
  const type = checker.getNonNullableType(checker.getTypeAtLocation(expr));
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return undefined;
  const members = type.isUnion() ? type.types : [type];
  return new Set(members.flatMap((t) => checker.getPropertiesOfType(t).map((p) => p.name)));
}

/**
 * Keys an update's values may set: an object literal's keys, following spreads and local variables by
 * their static type (a `Partial<Row>` spread may set every column). Undefined when nothing is known.
 */
function keysOf(expr: ts.Expression | undefined): Set<string> | undefined {
  if (!expr) return undefined;
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) {
    return keysOf(expr.expression);
  }
  if (ts.isConditionalExpression(expr)) {
    const a = keysOf(expr.whenTrue);
    const b = keysOf(expr.whenFalse);
    return a && b ? new Set([...a, ...b]) : undefined;
  }
  if (!ts.isObjectLiteralExpression(expr)) return keysOfType(expr);
  const keys = new Set<string>();
  for (const p of expr.properties) {
    if (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p)) {
      if (ts.isIdentifier(p.name) || ts.isStringLiteralLike(p.name)) keys.add(p.name.text);
      else return undefined;
    } else if (ts.isSpreadAssignment(p)) {
      const inner = keysOf(p.expression);
      if (!inner) return undefined;
      for (const k of inner) keys.add(k);
    } else return undefined;
  }
  return keys;
}

/** The table a drizzle `.update(x)` / `.insert(x)` argument names, or undefined if it is no known table. */
function tableOf(arg: ts.Expression | undefined): ts.Symbol | undefined {
  if (!arg) return undefined;
  const sym = resolveSymbol(arg);
  return sym && tablesBySymbol.has(sym) ? sym : undefined;
}

/** Text of a template or string, with `${expr}` kept as written (so `UPDATE ${invoices} SET` reads). */
function templateText(node: ts.TemplateLiteral | ts.StringLiteralLike): string {
  if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isStringLiteralLike(node)) return node.text;
  return node.head.text + node.templateSpans.map((s) => `\${${s.expression.getText()}}${s.literal.text}`).join('');
}

const RAW_UPDATE =
  /\bupdate\s+(?:only\s+)?(?:\$\{\s*([\w.]+)\s*\}|"?(\w+)"?)\s+set\b([\s\S]*?)(?=\bwhere\b|\breturning\b|\bfrom\b|$)/gi;

const writes: Write[] = [];
const unresolvedUpdates: string[] = []; // .update(...) on a table the test cannot name, or .set(...) it cannot read
for (const file of srcFiles) {
  const sf = sourceOf(file);
  visit(sf, (n) => {
    // drizzle: <db>.update(table).set(values)
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'update') {
      const table = tableOf(n.arguments[0]);
      if (!table) {
        const t = n.arguments[0] && checker.typeToString(checker.getTypeAtLocation(n.arguments[0]));
        if (t && /PgTable/.test(t)) unresolvedUpdates.push(`${where(n)} .update(${n.arguments[0]?.getText()})`);
        return;
      }
      const parent = n.parent;
      const setCall =
        ts.isPropertyAccessExpression(parent) && parent.name.text === 'set' && ts.isCallExpression(parent.parent)
          ? parent.parent
          : undefined;
      const keys = keysOf(setCall?.arguments[0]);
      if (!keys)
        unresolvedUpdates.push(`${where(n)} .update(${n.arguments[0]?.getText()}) with values the test cannot read`);
      for (const col of statusColumns) {
        if (col.symbol !== table) continue;
        if (keys && !keys.has(col.key)) continue;
        const literal =
          setCall?.arguments[0] &&
          ts.isObjectLiteralExpression(setCall.arguments[0]) &&
          setCall.arguments[0].properties.some(
            (p) => !ts.isSpreadAssignment(p) && p.name && ts.isIdentifier(p.name) && p.name.text === col.key,
          );
        const how = !keys
          ? '.update() (values unknown: counted)'
          : literal
            ? '.update().set()'
            : '.update().set() (a spread or variable whose type allows it)';
        writes.push({ column: col.id, fn: `${rel(file)}#${enclosingFunction(n)}`, file, at: where(n), how });
      }
    }
    // drizzle: <db>.insert(table).values(…).onConflictDoUpdate({ set: {…} }) — the conflict branch updates
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      n.expression.name.text === 'onConflictDoUpdate'
    ) {
      let e: ts.Expression = n.expression.expression;
      while (ts.isCallExpression(e) || ts.isPropertyAccessExpression(e)) {
        if (
          ts.isCallExpression(e) &&
          ts.isPropertyAccessExpression(e.expression) &&
          e.expression.name.text === 'insert'
        )
          break;
        e = e.expression;
      }
      const table = ts.isCallExpression(e) ? tableOf(e.arguments[0]) : undefined;
      const config = n.arguments[0];
      const setProp =
        config && ts.isObjectLiteralExpression(config)
          ? config.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'set')
          : undefined;
      const keys = setProp && ts.isPropertyAssignment(setProp) ? keysOf(setProp.initializer) : undefined;
      for (const col of statusColumns) {
        if (col.symbol !== table || (keys && !keys.has(col.key))) continue;
        writes.push({
          column: col.id,
          fn: `${rel(file)}#${enclosingFunction(n)}`,
          file,
          at: where(n),
          how: 'onConflictDoUpdate',
        });
      }
    }
    // raw SQL, in sql`` templates and query strings: UPDATE <table> SET … <column> =
    if (ts.isTemplateExpression(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isStringLiteral(n)) {
      if (ts.isTemplateLiteral(n) && ts.isTemplateExpression(n.parent)) return;
      const text = templateText(n);
      for (const m of text.matchAll(RAW_UPDATE)) {
        const [, interpolated, named, setClause = ''] = m;
        for (const col of statusColumns) {
          const tableVar = col.symbol.name;
          const sameTable = named
            ? named.toLowerCase() === col.table
            : interpolated === tableVar || interpolated?.endsWith(`.${tableVar}`);
          if (!sameTable) continue;
          const setsIt = new RegExp(`(^|[\\s,"{])(${col.column}"?|\\$\\{[\\w.]*\\.${col.key}\\})\\s*=`, 'i').test(
            setClause,
          );
          if (setsIt)
            writes.push({
              column: col.id,
              fn: `${rel(file)}#${enclosingFunction(n)}`,
              file,
              at: where(n),
              how: 'raw UPDATE',
            });
        }
      }
    }
  });
}

// ---- which files use a state machine ---------------------------------------------------------------------

/** Whether any import (module or named symbol) of the file lands in a file for which `match` holds. */
function importsMatching(sf: ts.SourceFile, match: (file: string) => boolean): boolean {
  for (const edge of importsOf(sf)) {
    if (match(edge.target)) return true;
    if (ts.isImportDeclaration(edge.node)) {
      const bindings = edge.node.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          const decl = resolveSymbol(el.name)?.declarations?.[0];
          if (decl && match(decl.getSourceFile().fileName)) return true;
        }
      }
    }
  }
  return false;
}
const machineModules = new Set(
  srcFiles.filter(
    (f) =>
      f.endsWith('.machine.ts') ||
      f === STATE_MACHINE_MODULE ||
      importsMatching(sourceOf(f), (t) => t === STATE_MACHINE_MODULE),
  ),
);
const usesMachine = (file: string) =>
  machineModules.has(file) || importsMatching(sourceOf(file), (t) => machineModules.has(t));

// ---- comments ------------------------------------------------------------------------------------------

function parseFile(file: string): ts.SourceFile {
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
}

/** Every comment in the file: the trivia before each token (JSX text, which has no comments, skipped). */
function commentsOf(sf: ts.SourceFile): ts.CommentRange[] {
  const seen = new Map<number, ts.CommentRange>();
  const tokens = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.JsxText) return;
    for (const r of ts.getLeadingCommentRanges(sf.text, node.pos) ?? []) seen.set(r.pos, r);
    for (const r of ts.getTrailingCommentRanges(sf.text, node.end) ?? []) seen.set(r.pos, r);
    for (const child of node.getChildren(sf)) tokens(child);
  };
  tokens(sf);
  return [...seen.values()];
}

// ---- the rules -----------------------------------------------------------------------------------------

describe('architecture', () => {
  test(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const file of srcFiles) {
      const sf = sourceOf(file);
      visit(sf, (n) => {
        if (!ts.isFunctionLike(n) || !(n as { body?: ts.Node }).body) return;
        const lines = lineOf(sf, n.end) - lineOf(sf, n.getStart()) + 1;
        if (lines > MAX_FUNCTION_LINES)
          long.push(`${lines} lines  ${where(n)}  ${functionName(n) ?? `callback in ${enclosingFunction(n)}`}`);
      });
    }
    assert.deepEqual(long, [], `functions over ${MAX_FUNCTION_LINES} lines (split them):\n  ${long.join('\n  ')}`);
  });

  test(`no file in src/ is longer than ${MAX_FILE_LINES} lines`, () => {
    const long = srcFiles
      .map((f) => ({
        f,
        lines:
          sourceOf(f).getLineAndCharacterOfPosition(sourceOf(f).end).line + (sourceOf(f).text.endsWith('\n') ? 0 : 1),
      }))
      .filter((x) => x.lines > MAX_FILE_LINES)
      .map((x) => `${x.lines} lines  ${rel(x.f)}`);
    assert.deepEqual(long, [], `files over ${MAX_FILE_LINES} lines (split them):\n  ${long.join('\n  ')}`);
  });

  test('no party imports another party; core imports neither platform nor a party; platform imports no party', () => {
    const bad: string[] = [];
    for (const file of srcFiles) {
      const from = areaOf(file);
      for (const edge of importsOf(sourceOf(file))) {
        const to = areaOf(edge.target);
        const party = (a: string) => (PARTIES as readonly string[]).includes(a);
        const wrong =
          (party(from) && party(to) && from !== to) ||
          (from === 'core' && (to === 'platform' || party(to) || to === '(root)')) ||
          (from === 'platform' && party(to));
        if (wrong) bad.push(`${where(edge.node)}  ${from} imports ${rel(edge.target)}`);
      }
    }
    assert.deepEqual(bad, [], `imports across the walls:\n  ${bad.join('\n  ')}`);
  });

  test('the status-column scan finds the tables it must (a guard against the scan going blind)', () => {
    const names = statusColumns.map((c) => c.id);
    const expectedColumns = [
      'shop:invoices.status',
      'shop:payment_attempts.status',
      'shop:refunds.status',
      'gateway:payment_sessions.status',
      'gateway:payment_sessions.acknowledgement',
      'gateway:refunds.status',
      'bank:authorizations.status',
      'platform:jobs.status',
    ];
    for (const expected of expectedColumns) {
      assert.ok(names.includes(expected), `${expected} is among the status columns found: ${names.join(', ')}`);
    }
    assert.ok(writes.length >= 10, `the writer scan found only ${writes.length} writes`);
  });

  test('every status column is updated by exactly one function, in a file that uses a state machine', () => {
    const report: string[] = [];
    const problems: string[] = [];
    for (const col of statusColumns) {
      const name = col.id;
      const mine = writes.filter((w) => w.column === name);
      const fns = [...new Set(mine.map((w) => w.fn))];
      report.push(
        `${name}  (${col.declaredAt}): ${fns.length === 0 ? 'no UPDATE (set on insert only)' : `${fns.length} writer(s)`}`,
      );
      for (const w of mine)
        report.push(`    ${w.fn}  at ${w.at}  ${w.how}${usesMachine(w.file) ? '' : '  [file uses no state machine]'}`);
      if (fns.length > 1) problems.push(`${name} has ${fns.length} writers: ${fns.join(', ')}`);
      for (const f of new Set(mine.filter((w) => !usesMachine(w.file)).map((w) => rel(w.file)))) {
        problems.push(
          `${name} is written in ${f}, which imports no state machine (*.machine.ts or a module using core/state-machine.ts)`,
        );
      }
    }
    if (otherStatusNamed.length) report.push(`not states (skipped): ${otherStatusNamed.join('; ')}`);
    if (unresolvedUpdates.length)
      report.push(
        `updates the scan could not fully read (counted as writing every status column of the table):\n    ${unresolvedUpdates.join('\n    ')}`,
      );
    const out = `status columns and their writers:\n  ${report.join('\n  ')}`;
    console.log(out);
    assert.deepEqual(problems, [], `${problems.join('\n')}\n\n${out}`);
  });

  test('no comment in src/ names an issue number (comments say what they mean)', () => {
    const bad: string[] = [];
    const ISSUE = /\bissues?\s*#?\d+|(?<![\w&])#\d+\b/i; // not PKCS#8, not &#39;
    for (const file of allSrcFiles) {
      const sf = program.getSourceFile(file) ?? parseFile(file);
      for (const c of commentsOf(sf)) {
        const m = ISSUE.exec(sf.text.slice(c.pos, c.end));
        if (m) bad.push(`${rel(file)}:${lineOf(sf, c.pos + m.index)}  "${m[0]}"`);
      }
    }
    assert.deepEqual(bad, [], `comments naming an issue number (say what is meant instead):\n  ${bad.join('\n  ')}`);
  });
});
