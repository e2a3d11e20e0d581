/**
 * Deterministic randomness. Each account-zone gets its own generator seeded from
 * (seed, account, zone) so adding an account does not change the names, states and figures
 * of the others (ids are sequential, so those can shift).
 */

/** 32-bit FNV-1a over a string, mixed with a numeric seed. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche so close inputs do not give close seeds.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Version-4-shaped UUID; built from a byte table because generation makes ~100k of them. */
  uuid(): string {
    const b: string[] = [];
    for (let i = 0; i < 4; i++) {
      const w = Math.floor(this.next() * 4294967296);
      b.push(HEX[w >>> 24]!, HEX[(w >>> 16) & 255]!, HEX[(w >>> 8) & 255]!, HEX[w & 255]!);
    }
    b[6] = `4${b[6]![1]}`;
    b[8] = `a${b[8]![1]}`;
    return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Seed for a named stream derived from the global seed. */
export function streamSeed(seed: number, ...parts: string[]): number {
  return hash32(parts.join('\u0000'), seed);
}
