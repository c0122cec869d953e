// gst-hangout web client: the page a person sees and uses (index.html):
// the join form and the invite (link, QR code), the members and their
// codes, one row per file with its progress and the user's buttons,
// notifications, where received files are saved, the settings this
// browser keeps. Everything that touches `document` is here, and nothing
// of the protocols: it renders what room.js and transfers.js report
// (hangout.js wires them) and calls them for what the user does.
// SPDX-License-Identifier: LGPL-2.1-or-later

import { visibleText } from './transfer1.js';
import { checkNames } from './signalling.js';
import { openPrivateStorage, canChooseFolder, chooseFolder } from './storage.js';
import * as room from './room.js';
import * as transfers from './transfers.js';

const { state, log } = room;

const PROGRESS_INTERVAL_MS = 150;
// Failed and declined rows kept in the list of files; older ones go, so that
// a member flooding bad offers cannot grow the page. Such rows hold nothing
// else: a received file gets its Blob and object URL only once verified,
// and a failed file's parts are dropped when it fails.
const MAX_FAILED_ROWS = 20;
// Lines of corrupt-piece warnings a file's row keeps.
const MAX_WARNINGS = 5;
// A declined file's row shows this much of its name.
const SHORT_NAME_CHARS = 64;
// Settings this browser keeps (localStorage): the display name for every
// room, and whether to accept every file offered in a room.
const NAME_KEY = 'hangout.name';
const acceptAllKey = (roomName) => `hangout.accept-all.${roomName}`;

const $ = (id) => document.getElementById(id);
const failedRows = []; // the failed rows of #transfers, oldest first

// Storage may be refused (sandboxed frames, some private modes): the page
// then works, and only forgets.
function loadSetting(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function saveSetting(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (e) { log('cannot keep a setting:', e.message); }
}

// "about 40 s", "about 3 min": a guess, worded as one.
function formatDuration(seconds) {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

function formatBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

// The start of a name too long to show whole.
function shortName(name) {
  const chars = Array.from(name.slice(0, 4 * SHORT_NAME_CHARS));
  return chars.length > SHORT_NAME_CHARS ? `${chars.slice(0, SHORT_NAME_CHARS).join('')}…` : name;
}

export function setStatus(text) { $('status').textContent = text; }

// ---- members ----

export function renderMember(peer, forced = null) {
  let li = document.querySelector(`#members li[data-id="${peer.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.id = peer.id;
    li.append(Object.assign(document.createElement('span'), { className: 'name' }),
      Object.assign(document.createElement('span'), { className: 'state' }));
    $('members').append(li);
  }
  let s = forced ?? (peer.pingTimer ? 'checking' : peer.connected ? 'connected' : 'connecting');
  if (peer.pc.connectionState === 'failed') s = 'failed';
  li.dataset.state = s;
  li.querySelector('.name').textContent = visibleText(peer.name) || '(no name)';
  li.querySelector('.state').textContent = s === 'checking' ? 'not answering…'
    : s === 'connected' && peer.sas ? `connected · code ${peer.sas}`
    : s === 'connecting' && peer.sas ? `proving the room secret… · code ${peer.sas}` : s;
  li.dataset.sas = peer.sas ?? '';
  updateEmptyHint();
}

function updateEmptyHint() { $('no-members').hidden = state.peers.size > 0; }

export function memberRemoved(peer) {
  document.querySelector(`#members li[data-id="${peer.id}"]`)?.remove();
  updateEmptyHint();
}

// A member that could not prove the room secret: its row says why.
export function memberRefused(peer, reason) {
  const li = document.createElement('li');
  li.dataset.id = peer.id;
  li.dataset.state = 'refused';
  li.append(Object.assign(document.createElement('span'), { className: 'name', textContent: visibleText(peer.name) || '(no name)' }),
    Object.assign(document.createElement('span'), { className: 'state', textContent: `refused: ${reason}` }));
  $('members').append(li);
  updateEmptyHint();
}

// ---- files ----

// One file's row: name, direction (and the sender's type, as text only),
// progress bar with speed and time left, the user's buttons, outcome; a
// shared file's row lists its recipients, each with its own state.
// Everything a member chose is set as text, never as markup, with its
// invisible characters shown.
class TransferView {
  constructor(direction, name, size, who, mime = null) {
    this.size = size;
    this.start = performance.now();
    this.lastPaint = 0;
    this.li = document.createElement('li');
    this.li.dataset.direction = direction;
    this.li.dataset.state = 'active';
    name = visibleText(name);
    who = visibleText(who);
    this.name = name;
    this.who = who;
    this.li.dataset.name = name;
    const title = Object.assign(document.createElement('span'), { className: 'name', textContent: name });
    const dir = Object.assign(document.createElement('span'), {
      className: 'dir',
      textContent: (direction === 'in' ? `from ${who || '(no name)'}` : who ? `to ${who}` : '')
        + (mime ? ` · ${visibleText(mime)}` : ''),
    });
    this.bar = document.createElement('progress');
    // A size not known in advance: an indeterminate bar.
    if (size !== null) { this.bar.max = size || 1; this.bar.value = 0; }
    this.bar.setAttribute('aria-label', `${name} progress`);
    this.info = Object.assign(document.createElement('span'), { className: 'info' });
    this.actions = Object.assign(document.createElement('span'), { className: 'actions' });
    this.li.append(title, dir, this.bar, this.info, this.actions);
    // A shared file's: its recipients' states by key, their list, its Cancel.
    this.recipients = null;
    this.recipientList = null;
    this.onCancel = null;
    $('transfers').prepend(this.li);
  }

  // Buttons, each [action, label, handler]; the label names the file for
  // screen readers, where "Accept" alone would not say which.
  setActions(buttons) {
    this.actions.replaceChildren(...buttons.map(([action, label, handler]) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', textContent: label });
      b.dataset.action = action;
      b.setAttribute('aria-label', `${label} ${this.name}`);
      b.addEventListener('click', handler);
      return b;
    }));
  }

  progress(done, note = '') {
    const now = performance.now();
    this.li.dataset.bytes = done;
    if (now - this.lastPaint < PROGRESS_INTERVAL_MS && done !== this.size) return;
    this.lastPaint = now;
    if (this.size !== null) this.bar.value = done;
    const speed = done / Math.max((now - this.start) / 1000, 0.001);
    const total = this.size === null ? '' : ` of ${formatBytes(this.size)}`;
    const left = this.size === null || done === 0 || done >= this.size ? ''
      : ` · ${formatDuration((this.size - done) / speed)} left`;
    this.info.textContent = note || `${formatBytes(done)}${total} · ${formatBytes(speed)}/s${left}`;
  }

  finish(stateName, text, buttons = []) {
    if (stateName === 'failed' && this.li.dataset.state !== 'failed') {
      failedRows.push(this.li);
      if (failedRows.length > MAX_FAILED_ROWS) failedRows.shift().remove();
    }
    this.li.dataset.state = stateName;
    this.bar.hidden = stateName !== 'done';
    this.info.textContent = text;
    this.setActions(buttons);
  }

  // A file offered to this page: receiving, the user not asked yet.
  ask({ accept, decline }) {
    this.li.dataset.state = 'offered';
    this.setActions([['accept', 'Accept', accept], ['decline', 'Decline', decline]]);
  }

  receiving(cancel) {
    this.li.dataset.state = 'active';
    this.setActions([['cancel', 'Cancel', cancel]]);
  }

  // Whole and verified, waiting for the user's accept.
  verified() {
    this.li.dataset.state = 'verified';
    this.bar.value = this.bar.max;
    this.info.textContent = 'SHA-256 verified · accept it to save it';
  }

  cancelled(text) { this.finish('cancelled', text); }

  // `file`: a Blob, or a File on disk. Its link never has the sender's
  // type: a text/html file opened from it would run the sender's script in
  // this page's origin. As octet-stream it can only be downloaded (a Blob
  // around a File on disk is a reference to it, not a copy).
  received(file, name, digest, where) {
    this.bar.max = 1;
    this.bar.value = 1;
    const secs = (performance.now() - this.start) / 1000;
    const kept = { folder: ', saved in the folder you chose', private: ', on disk' }[where] ?? '';
    this.finish('done', `${formatBytes(file.size)} in ${secs.toFixed(1)} s, SHA-256 verified${kept} · `);
    const blob = new Blob([file], { type: 'application/octet-stream' });
    const a = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(blob), download: name, textContent: `Save ${name}`,
    });
    a.dataset.sha256 = digest;
    a.dataset.storage = where;
    this.info.append(a);
    notifyReceived(this.name, file.size, this.who);
  }

  // A warning that does not end the transfer (a member's corrupt piece).
  warning(text) {
    let list = this.li.querySelector('.warnings');
    if (!list) {
      list = Object.assign(document.createElement('ul'), { className: 'warnings' });
      list.setAttribute('role', 'alert');
      this.li.append(list);
    }
    list.append(Object.assign(document.createElement('li'), { textContent: text }));
    while (list.children.length > MAX_WARNINGS) list.firstElementChild.remove();
  }

  failed(why) { this.finish('failed', `Failed: ${why}`); }

  // Figures of a finished transfer, on the row for tests and the curious.
  stats(values) { Object.assign(this.li.dataset, values); }

  declined(why) { this.finish('failed', `Declined: ${why}`); }

  // ---- a shared file's row ----

  sharing(cancel) {
    this.onCancel = cancel;
    this.recipients = new Map();
    this.recipientList = Object.assign(document.createElement('ul'), { className: 'recipients' });
    this.recipientList.setAttribute('aria-label', `Recipients of ${this.name}`);
    this.li.append(this.recipientList);
  }

  // A send begins: the bar, speed and time left are its own.
  sending() {
    this.start = performance.now();
    this.lastPaint = 0;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.li.dataset.state = 'active';
    this.setActions([['cancel', 'Cancel', this.onCancel]]);
  }

  // One line per member, by its instance (§1.6): a member that reconnects
  // keeps its line.
  recipient(peer, s) {
    const key = peer.instance ?? peer.id;
    this.recipients.set(key, s);
    let line = [...this.recipientList.children].find((l) => l.dataset.member === key);
    if (!line) {
      line = document.createElement('li');
      line.dataset.member = key;
      line.append(Object.assign(document.createElement('span'), { className: 'who' }),
        Object.assign(document.createElement('span'), { className: 'what' }));
      this.recipientList.append(line);
    }
    line.dataset.state = s;
    line.querySelector('.who').textContent = visibleText(peer.name) || '(no name)';
    line.querySelector('.what').textContent = RECIPIENT_WORDS[s];
  }

  waiting() {
    this.finish('done', 'Shared: offered to members who join.', [['stop', 'Stop sharing', this.onCancel]]);
  }

  // Every send so far answered: a recipient's decline, or its leaving, is
  // its choice, not a failure of the file.
  sent() {
    const counts = {};
    for (const s of this.recipients.values()) counts[s] = (counts[s] ?? 0) + 1;
    const text = Object.keys(RECIPIENT_WORDS).filter((s) => counts[s])
      .map((s) => `${counts[s]} ${RECIPIENT_WORDS[s]}`).join(', ');
    this.bar.max = 1;
    this.bar.value = 1;
    this.finish(counts.failed || counts.silent ? 'failed' : 'done', `Sent: ${text}.`,
      [['stop', 'Stop sharing', this.onCancel]]);
  }

  // The user cancelled the send under way, or stopped offering the file.
  stopped(wasSending) {
    if (wasSending) this.finish('cancelled', 'Cancelled.');
    else {
      this.info.append(' No longer offered to members who join.');
      this.setActions([]);
    }
  }
}

// What transfers.js reports of a file, shown in its row.
export const fileView = (direction, name, size, who, mime) => new TransferView(direction, name, size, who, mime);

// An offer declined at once (a limit): a row that says so, with the start
// of its name.
export function declinedView(name, size, who, why) {
  new TransferView('in', shortName(name), size, who).declined(why);
}

// A recipient's state, as its line and the summary say it, in the order
// the summary lists them.
const RECIPIENT_WORDS = {
  ok: 'verified', failed: 'failed', silent: 'no answer', rejected: 'declined',
  left: 'left', cancelled: 'cancelled', pending: 'receiving…',
};

// ---- notifications ----
//
// A file that arrives while the tab is in the background is notified, once,
// where the user allowed it. Permission is asked only when the user presses
// "Notify me", never on load: browsers ignore or hold against a site a
// request without a gesture, and a prompt nobody asked for is dismissed.
// Only a file whole, verified and accepted is notified, as the row says
// "done": its name, its size and its sender.

function setUpNotifications() {
  // Once the user has answered there is nothing to ask. Browsers allow
  // notifications in secure contexts only: on plain http from another
  // machine the answer is 'denied' already, or there is no API at all.
  if (!('Notification' in globalThis) || Notification.permission !== 'default') return;
  $('notify-line').hidden = false;
  $('notify').addEventListener('click', async () => {
    const answer = await Notification.requestPermission();
    if (answer === 'default') return; // the prompt was dismissed: it may be asked again
    $('notify').hidden = true;
    $('notify-status').textContent = answer === 'granted'
      ? 'You will be notified when a file arrives while this tab is in the background.'
      : 'Notifications are blocked for this site; its settings in the browser can allow them.';
  });
}

function notifyReceived(name, size, who) {
  if (document.visibilityState !== 'hidden' || globalThis.Notification?.permission !== 'granted') return;
  const n = new Notification(`Received ${name}`, { body: `${formatBytes(size)} from ${who || '(no name)'}` });
  n.addEventListener('click', () => { window.focus(); n.close(); });
}

// ---- page setup ----

export const joinRefused = (reason) => showJoinForm(`Could not join: ${reason}`);

function showJoinForm(error = '') {
  $('room').hidden = true;
  $('join').hidden = false;
  $('join-error').textContent = error;
  $('join-room').value = state.room ?? '';
  $('join-name').value = state.name ?? '';
  (state.room ? $('join-name') : $('join-room')).focus();
}

// The address that invites others: the room (with the relay choice, and
// the secret in the fragment, which browsers never send), never our own
// name, so that whoever opens it joins under theirs.
function inviteAddress() {
  const query = new URLSearchParams({ room: state.room });
  if (state.relayOnly) query.set('relay', '1');
  const fragment = state.secret ? `#${new URLSearchParams({ secret: state.secret })}` : '';
  return `${location.origin}${location.pathname}?${query}${fragment}`;
}

function showWhere() {
  $('where').hidden = false;
  $('where').textContent = `Room ${state.room}${state.key ? ' · with a room secret' : ''}`;
  $('my-name').value = state.name;
}

function join(roomName, name, secret = null) {
  room.enter(roomName, name, secret);
  transfers.files.acceptAll = loadSetting(acceptAllKey(roomName)) === '1';
  saveSetting(NAME_KEY, name);
  $('join').hidden = true;
  $('room').hidden = false;
  showWhere();
  $('accept-all').checked = transfers.files.acceptAll;
  // The address bar holds the invite too: reloading keeps the room, and
  // copying the address never hands out our name.
  history.replaceState(null, '', inviteAddress());
  $('invite-link').value = location.href;
  document.title = `${roomName} · Hangout`;
  room.connect();
}

// A new name: the room rejoins under it (room.rename()).
function rename(name) {
  saveSetting(NAME_KEY, name);
  room.rename(name);
  showWhere();
}

function setUpRoomControls() {
  $('rename').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('my-name').value.trim();
    const error = checkNames(state.room, name);
    $('rename-error').textContent = error ?? '';
    if (!error && name !== state.name) rename(name);
  });
  $('copy-link').addEventListener('click', async () => {
    const input = $('invite-link');
    let copied = false;
    // The Clipboard API exists only in secure contexts; a room on a LAN
    // over plain http has the older command.
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select();
      copied = document.execCommand('copy');
    }
    $('copy-status').textContent = copied ? 'Link copied.' : 'Select the address and copy it.';
  });
  setUpQrCode();
  $('accept-all').addEventListener('change', (ev) => {
    saveSetting(acceptAllKey(state.room), ev.target.checked ? '1' : null);
    transfers.setAcceptAll(ev.target.checked);
  });
}

// The invite as a QR code, for a phone across the room: drawn by
// qrcode-generator (qrcode.js, the global qrcode) in the page, not asked of
// the server, which must never see the room secret in the invite's
// fragment. The address is ASCII (URLSearchParams and location
// percent-encode the rest), so the library's default encoding of a string,
// a byte per character, is right.
function setUpQrCode() {
  // Absent where the page is served from gst/web itself (--web-root).
  if (typeof globalThis.qrcode !== 'function') return;
  const button = $('show-qr');
  button.hidden = false;
  button.addEventListener('click', () => {
    const address = $('invite-link').value;
    const image = $('qr-image');
    try {
      // Type 0: the smallest version that holds the address; level M: a
      // code with 15% of it lost (a glare, a crease) still reads.
      const qr = globalThis.qrcode(0, 'M');
      qr.addData(address);
      qr.make();
      // Four modules of white around it, the quiet zone scanners need,
      // white in the dark scheme too.
      const svg = qr.createSvgTag({ cellSize: 1, margin: 4, scalable: true });
      image.src = `data:image/svg+xml,${encodeURIComponent(svg)}`;
      image.alt = `QR code of the invite address ${address}`;
      image.hidden = false;
      $('qr-note').textContent = `Point a phone's camera at it to open room ${state.room}.`;
    } catch (e) {
      // Too long for any QR code: a room secret has no length limit.
      log('no QR code:', e);
      image.hidden = true;
      $('qr-note').textContent = 'The invite address is too long for a QR code; copy the link instead.';
    }
    $('qr-dialog').showModal();
  });
}

function setUpSharing() {
  const input = $('files');
  input.addEventListener('change', () => {
    transfers.shareFiles([...input.files]);
    input.value = ''; // choosing the same file again shares it again
  });
  const drop = $('drop');
  // The whole page takes drops, so a near miss does not open the file.
  document.addEventListener('dragover', (ev) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    ev.preventDefault();
    drop.classList.add('over');
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) drop.classList.remove('over');
  });
  document.addEventListener('drop', (ev) => {
    drop.classList.remove('over');
    if (!ev.dataTransfer?.files.length) return;
    ev.preventDefault();
    if (state.joined || state.ws) transfers.shareFiles([...ev.dataTransfer.files]);
  });
}

// Where received files go (storage.js): a folder the user picks, where the
// browser lets a page write one; else this browser's own storage.
function setUpSaving() {
  openPrivateStorage(state.instance);
  if (!canChooseFolder()) return;
  const button = $('choose-folder');
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      $('save-where').textContent = `Received files are saved in ${visibleText(await chooseFolder())}.`;
    } catch (e) { log('no folder chosen:', e.message); }
  });
}

// Sets the page up, and joins the room the address names, or asks which.
export function start() {
  setUpSharing();
  setUpSaving();
  setUpRoomControls();
  setUpNotifications();
  $('join').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const roomName = $('join-room').value.trim();
    const name = $('join-name').value.trim();
    const error = checkNames(roomName, name);
    if (error) { $('join-error').textContent = error; return; }
    join(roomName, name, $('join-secret').value);
  });
  const params = new URLSearchParams(location.search);
  const roomName = params.get('room') ?? '';
  // A name in the address (an older invite, a script) is taken once; the
  // address then loses it (join()).
  const name = params.get('name') ?? loadSetting(NAME_KEY) ?? '';
  const secret = new URLSearchParams(location.hash.slice(1)).get('secret');
  state.relayOnly = params.get('relay') === '1';
  state.room = roomName || null;
  state.name = name || null;
  const error = roomName && name ? checkNames(roomName, name) : null;
  if (roomName && name && !error) join(roomName, name, secret);
  else showJoinForm(error ?? '');
}

