// gst-hangout web client: where a received file's bytes go. On disk where
// the browser lets the page write one: a folder the user chose
// (showDirectoryPicker), else the origin private file system
// (navigator.storage.getDirectory(), secure contexts only); in memory
// (Blob parts) where neither exists. The bytes are written in order as
// they come; the caller keeps what is not written yet bounded by waiting
// for `pending` to fall.
// SPDX-License-Identifier: LGPL-2.1-or-later

// Each page keeps its received files in its own directory of the origin
// private file system, named by its instance and held by a Web Lock of
// the same name while the page lives: a later page removes the
// directories whose lock no one holds (pages closed or reloaded), so that
// files no link can reach any more do not pile up on the disk.
const PRIVATE_PREFIX = 'received-';

let privateDir = null; // a promise of this page's directory, or of null

export function openPrivateStorage(instance) {
  const storage = globalThis.navigator?.storage;
  if (!storage?.getDirectory) { privateDir = Promise.resolve(null); return; }
  const name = `${PRIVATE_PREFIX}${instance}`;
  privateDir = (async () => {
    const root = await storage.getDirectory();
    const locks = globalThis.navigator.locks;
    if (locks) {
      await new Promise((held) => {
        locks.request(name, () => { held(); return new Promise(() => {}); });
      });
      const alive = new Set(((await locks.query()).held ?? []).map((l) => l.name));
      for await (const [entry] of root.entries()) {
        if (entry.startsWith(PRIVATE_PREFIX) && !alive.has(entry))
          await root.removeEntry(entry, { recursive: true }).catch(() => {});
      }
    }
    return root.getDirectoryHandle(name, { create: true });
  })().catch((e) => {
    console.log('[hangout] no origin private file system:', e?.message ?? e);
    return null;
  });
}

let chosenDir = null; // a folder the user picked, or null

export const canChooseFolder = () => typeof globalThis.showDirectoryPicker === 'function';

// Asks the user for a folder to save received files in (needs a click:
// the browser shows its picker only on a user's gesture).
export async function chooseFolder() {
  chosenDir = await globalThis.showDirectoryPicker({ id: 'hangout-received', mode: 'readwrite' });
  return chosenDir.name;
}

// A name not yet used in `dir`: "f.bin", "f (1).bin", …
async function freeName(dir, name) {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${stem} (${n})${ext}`;
    try {
      await dir.getFileHandle(candidate);
    } catch (e) {
      if (e.name === 'NotFoundError') return candidate;
      throw e;
    }
  }
}

// `id` names the file in the private directory (the member's name is not
// needed there, and is not trusted as a path anywhere); `name`, already
// sanitised, in a folder the user chose.
async function openOnDisk(id, name) {
  const dir = chosenDir ?? await privateDir;
  if (!dir) return null;
  const where = chosenDir ? 'folder' : 'private';
  const fileName = chosenDir ? await freeName(dir, name) : id;
  const handle = await dir.getFileHandle(fileName, { create: true });
  const writable = await handle.createWritable();
  return { dir, fileName, handle, writable, where };
}

export class FileSink {
  constructor(id, name) {
    this.pending = 0; // bytes given to write() and not written yet
    this.onWritten = null; // called whenever some were written
    this.disk = null;
    this.parts = null; // in memory, when there is no disk
    this.error = null;
    this.chain = openOnDisk(id, name).then((disk) => {
      this.disk = disk;
      if (!disk) this.parts = [];
    }, (e) => {
      console.log('[hangout] cannot write', name, 'to disk, keeping it in memory:', e?.message ?? e);
      this.parts = [];
    });
  }

  // 'folder', 'private' (the origin private file system) or 'memory'.
  get where() { return this.disk?.where ?? 'memory'; }

  write(bytes) {
    this.pending += bytes.length;
    this.chain = this.chain.then(async () => {
      try {
        if (this.error) return;
        if (this.disk) await this.disk.writable.write(bytes);
        else this.parts.push(bytes);
      } catch (e) {
        this.error = e?.message ?? String(e);
      } finally {
        this.pending -= bytes.length;
        this.onWritten?.();
      }
    });
  }

  // The whole file, once written: a File on disk (served from there by its
  // object URL), or a Blob. Rejects when a write failed.
  async close() {
    await this.chain;
    if (this.error) throw new Error(this.error);
    if (!this.disk) {
      const blob = new Blob(this.parts, { type: 'application/octet-stream' });
      this.parts = null;
      return blob;
    }
    await this.disk.writable.close();
    return this.disk.handle.getFile();
  }

  // Gives up the file: nothing of it stays, in memory or on disk.
  discard() {
    this.error ??= 'discarded';
    this.chain = this.chain.then(async () => {
      this.parts = null;
      if (!this.disk) return;
      await this.disk.writable.abort().catch(() => {});
      await this.disk.dir.removeEntry(this.disk.fileName).catch(() => {});
    });
  }
}
