import { inspect } from 'node:util';

/**
 * A credential value that cannot leak by accident: it prints, logs and serialises as
 * `[REDACTED]`. Only `reveal()` gives the text, and only the code that talks to the API calls it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }
  toString(): string {
    return '[REDACTED]';
  }
  toJSON(): string {
    return '[REDACTED]';
  }
  [inspect.custom](): string {
    return '[REDACTED]';
  }
}
