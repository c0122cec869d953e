// The string constants of a C test file (tests/unit/*.c), evaluated as the
// compiler would: `#define NAME "…" "…"` and `static const gchar name[] =
// "…" NAME "…";`, adjacent literals and macros concatenated. So the page's
// modules are tested with the very bytes the C tests use, not a copy.
import { readFileSync } from 'node:fs';

const ESCAPES = { n: '\n', r: '\r', t: '\t', a: '\x07', '\\': '\\', '"': '"' };

function unescape(body) {
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ESCAPES[e] ?? e;
  });
}

export function cStrings(name) {
  const text = readFileSync(new URL(`../unit/${name}`, import.meta.url), 'utf8')
    .replace(/\\\n/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  const values = new Map();
  const evaluate = (expr) => {
    let out = '';
    for (const [, literal, macro] of expr.matchAll(/"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)/g)) {
      if (literal !== undefined) out += unescape(literal);
      else if (values.has(macro)) out += values.get(macro);
      else return null; // not a string constant
    }
    return out;
  };
  for (const m of text.matchAll(/^#define (\w+) ("[^\n]*)$|^static const gchar (\w+)\[\] =([^;]*);/gm)) {
    const [key, expr] = m[1] ? [m[1], m[2]] : [m[3], m[4]];
    const value = evaluate(expr);
    if (value !== null) values.set(key, value);
  }
  return values;
}
