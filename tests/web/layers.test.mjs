// The page's structure (docs/architecture.md, "The web page: its
// modules"), read from its sources: each module imports only the layers
// below it, nothing below ui.js touches the DOM, and every module the
// entry loads is built into the server (gst/server/web.gresource.xml),
// since a module missing there is a page that never starts when served
// built in, as users get it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const web = new URL('../../gst/web/', import.meta.url);
const source = (name) => readFileSync(new URL(name, web), 'utf8');
// Comments and strings say what they like; code is what counts.
const code = (name) => source(name).replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
const importsOf = (name) => [...source(name).matchAll(/^import [^;]*? from '\.\/([\w-]+\.js)';$/gm)].map((m) => m[1]);

// Each module and those it may import: only layers below it.
const LAYERS = {
  'hangout.js': ['ui.js', 'transfers.js', 'room.js'],
  'ui.js': ['transfers.js', 'room.js', 'signalling.js', 'transfer1.js', 'storage.js'],
  'transfers.js': ['room.js', 'transfer1.js', 'transfer2.js', 'storage.js', 'sha256.js'],
  'room.js': ['signalling.js', 'auth.js', 'sha256.js'],
  'signalling.js': [],
  'auth.js': ['sha256.js'],
  'transfer1.js': ['sha256.js'],
  'transfer2.js': ['sha256.js'],
  'storage.js': [],
  'sha256.js': [],
};

function loaded(from = 'hangout.js', seen = new Set()) {
  if (seen.has(from)) return seen;
  seen.add(from);
  for (const dep of importsOf(from)) loaded(dep, seen);
  return seen;
}

test('each module imports only the layers below it', () => {
  assert.deepEqual([...loaded()].sort(), Object.keys(LAYERS).sort(), 'the modules hangout.js loads');
  for (const [name, allowed] of Object.entries(LAYERS))
    for (const dep of importsOf(name)) assert.ok(allowed.includes(dep), `${name} imports ${dep}`);
});

test('no DOM below ui.js', () => {
  for (const name of Object.keys(LAYERS).filter((n) => n !== 'ui.js' && n !== 'hangout.js'))
    // As globals: a piece window's `window` is no DOM.
    assert.doesNotMatch(code(name), /(?<![.\w$])(document|window|localStorage|sessionStorage|history)\s*\.|\bHTML\w*Element\b/, name);
});

test('every module the page loads is built into the server', () => {
  const xml = readFileSync(new URL('../../gst/server/web.gresource.xml', import.meta.url), 'utf8');
  const built = new Set([...xml.matchAll(/<file>([^<]+)<\/file>/g)].map((m) => m[1]));
  for (const name of loaded()) assert.ok(built.has(name), `${name} in web.gresource.xml`);
  assert.match(source('index.html'), /<script type="module" src="hangout.js"><\/script>/);
});
