/**
 * Reading hostile answers safely: the error text of a failed answer (bounded), where a JSON body
 * broke (without quoting it), and whether a body nests deeper than any real answer does.
 */

/** Real answers nest 4 levels; 64 leaves room for any plausible field and stops a 100k-deep name. */
export const MAX_JSON_DEPTH = 64;
/** How much of an error body is read to find its message. */
const ERROR_BODY_BYTES = 4096;

/**
 * The message inside the first bytes of an error body (`error.message` of Keystone, `errortext`
 * of the LB API, or the raw text). The caller's catalogue constructor cleans and redacts it.
 */
export async function errorDetail(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= ERROR_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  const text = Buffer.concat(chunks, size).subarray(0, ERROR_BODY_BYTES).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (!nestingExceeds(text, MAX_JSON_DEPTH)) {
      const v = JSON.parse(text) as Record<string, unknown> | null;
      const found = messageIn(v) ?? (v && typeof v === 'object' ? Object.values(v).map(messageIn).find((m) => m !== undefined) : undefined);
      if (found !== undefined) return found;
    }
  } catch {
    // not JSON (or cut at 4 KB): the text itself is the detail
  }
  return text;
}

function messageIn(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const inner = o.error && typeof o.error === 'object' ? (o.error as Record<string, unknown>) : o;
  for (const k of ['message', 'errortext', 'displaytext', 'title']) if (typeof inner[k] === 'string') return inner[k] as string;
  return undefined;
}

/**
 * Where JSON.parse failed, as "position N" or a description: V8's own message quotes the start
 * of the body, which could be anything, a credential included.
 */
export function jsonProblem(err: unknown, text: string): string {
  const m = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (m) return `position ${m[1]} of ${text.length}`;
  if (text.trim() === '') return 'empty body';
  if (/end of JSON input/.test(err instanceof Error ? err.message : '')) return `ends early at position ${text.length}`;
  return `unexpected character, body of ${text.length} characters`;
}

/** Whether brackets nest deeper than max, outside strings; one pass, no recursion. */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
