/**
 * Notices when the config file or a credential file changes. Kubernetes updates a Secret
 * mount by swapping a `..data` symlink, which never touches the file path we hold: so we
 * compare fingerprints (resolved path, inode, size, mtime) rather than trust inotify alone.
 * Directory watches make the check prompt; a slow poll catches whatever they miss.
 */
import { watch, type FSWatcher, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export class ChangeWatcher {
  private fingerprint: string;
  private watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    private files: readonly string[],
    private dirs: readonly string[],
    private readonly onChange: () => void,
    private readonly pollMs = 5000,
  ) {
    this.fingerprint = this.compute();
    this.poll = setInterval(() => this.check(), pollMs).unref();
    this.rewatch();
  }

  /** Watch a new set of files (after a reload changed the accounts). */
  update(files: readonly string[], dirs: readonly string[]): void {
    this.files = files;
    this.dirs = dirs;
    this.fingerprint = this.compute();
    this.rewatch();
  }

  close(): void {
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private rewatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const folders = new Set([...this.files.map((f) => dirname(f)), ...this.dirs]);
    for (const folder of folders) {
      try {
        const w = watch(folder, { persistent: false }, () => this.soon());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // A missing folder is seen by the poll once it appears.
      }
    }
  }

  private soon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), 200).unref();
  }

  private check(): void {
    const now = this.compute();
    if (now !== this.fingerprint) {
      this.fingerprint = now;
      this.onChange();
    }
  }

  private compute(): string {
    const parts: string[] = [];
    for (const f of this.files) {
      try {
        const real = realpathSync(f);
        const s = statSync(real);
        parts.push(`${f}>${real}:${s.ino}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${f}:missing`);
      }
    }
    for (const d of this.dirs) {
      try {
        parts.push(`${d}/:${readdirSync(d).filter((n) => !n.startsWith('.')).sort().join(',')}`);
      } catch {
        parts.push(`${d}/:missing`);
      }
    }
    return parts.join('\n');
  }
}
