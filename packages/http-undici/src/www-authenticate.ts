/**
 * A strict parser of the `WWW-Authenticate` response header (RFC 9110 §11.6.1). Pure:
 * no I/O and no runtime-specific imports, so it can move to core unchanged.
 */

/** One challenge of a `WWW-Authenticate` header. */
export interface WwwAuthenticateChallenge {
  /** The auth scheme as sent, e.g. `"Bearer"`. Compare it case-insensitively. */
  readonly scheme: string;
  /**
   * The auth-params, keyed by lower-cased name (names are case-insensitive), values
   * unquoted and unescaped. Empty when the challenge has none or carries a `token68`.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The `token68` form of credentials (`Basic abc==`), when the challenge uses it. */
  readonly token68?: string;
}

/**
 * Parses a `WWW-Authenticate` header into its challenges: auth-params with token or
 * quoted-string values (backslash escapes undone), `token68`, several challenges in one
 * header, and several header lines (pass the array Node gives you).
 *
 * Never throws: parsing stops at the first syntax error and returns the challenges
 * completed before it (so garbage yields `[]`). A challenge with a repeated parameter
 * name is a syntax error (RFC 9110 allows each name once).
 *
 * @example
 * parseWwwAuthenticate('Bearer error="insufficient_claims", claims="eyJ..."')
 * // → [{ scheme: "Bearer", params: { error: "insufficient_claims", claims: "eyJ..." } }]
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function parseWwwAuthenticate(header: string | readonly string[] | null | undefined): WwwAuthenticateChallenge[] {
  let input: string;
  if (typeof header === "string") input = header;
  else if (Array.isArray(header) && header.every((line) => typeof line === "string")) input = header.join(", ");
  else return [];
  return new Parser(input).challenges();
}

/** tchar of RFC 9110 §5.6.2, indexed by char code. */
const TCHAR: readonly boolean[] = (() => {
  const table = new Array<boolean>(128).fill(false);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    table[c.charCodeAt(0)] = true;
  }
  return table;
})();

/** token68 characters except the trailing `=` padding (RFC 9110 §11.2). */
const TOKEN68: readonly boolean[] = (() => {
  const table = new Array<boolean>(128).fill(false);
  for (const c of "-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    table[c.charCodeAt(0)] = true;
  }
  return table;
})();

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Thrown internally to unwind on a syntax error; never escapes the module. */
class SyntaxFault extends Error {}
const FAULT = new SyntaxFault();

class Parser {
  #pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  challenges(): WwwAuthenticateChallenge[] {
    const result: WwwAuthenticateChallenge[] = [];
    try {
      this.#skipListSeparators();
      while (!this.#atEnd()) {
        result.push(this.#challenge());
        this.#skipListSeparators();
      }
    } catch (error) {
      if (!(error instanceof SyntaxFault)) throw error;
    }
    return result;
  }

  #challenge(): WwwAuthenticateChallenge {
    const scheme = this.#token();
    if (scheme === "") throw FAULT;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    // The scheme ends at the list's end, a comma, or one or more spaces before its data.
    if (this.#atEnd() || this.#code() === COMMA) return { scheme, params };
    if (!this.#isSpace(this.#code())) throw FAULT;
    this.#skipSpaces();
    if (this.#atEnd() || this.#code() === COMMA) return { scheme, params };

    const token68 = this.#tryToken68();
    if (token68 !== undefined) return { scheme, params, token68 };

    for (;;) {
      const name = this.#token().toLowerCase();
      if (name === "") throw FAULT;
      this.#skipSpaces();
      if (this.#code() !== EQUALS) throw FAULT;
      this.#pos++;
      this.#skipSpaces();
      let value: string;
      if (this.#code() === DQUOTE) value = this.#quotedString();
      else {
        value = this.#token();
        if (value === "") throw FAULT;
      }
      if (Object.hasOwn(params, name)) throw FAULT;
      params[name] = value;

      this.#skipSpaces();
      if (this.#atEnd()) return { scheme, params };
      if (this.#code() !== COMMA) throw FAULT;
      // After a comma comes another auth-param of this challenge, or the next challenge.
      const mark = this.#pos;
      this.#skipListSeparators();
      if (this.#atEnd() || !this.#startsParam()) {
        this.#pos = mark;
        return { scheme, params };
      }
    }
  }

  /** `token BWS "="` ahead means an auth-param; anything else starts a new challenge. */
  #startsParam(): boolean {
    const mark = this.#pos;
    const name = this.#token();
    this.#skipSpaces();
    const isParam = name !== "" && this.#code() === EQUALS;
    this.#pos = mark;
    return isParam;
  }

  /** Reads `token68` when it makes up the whole challenge data; otherwise reads nothing. */
  #tryToken68(): string | undefined {
    const start = this.#pos;
    let end = start;
    while (end < this.#text.length && (TOKEN68[this.#text.charCodeAt(end)] ?? false)) end++;
    if (end === start) return undefined;
    while (end < this.#text.length && this.#text.charCodeAt(end) === EQUALS) end++;
    let after = end;
    while (after < this.#text.length && this.#isSpace(this.#text.charCodeAt(after))) after++;
    if (after < this.#text.length && this.#text.charCodeAt(after) !== COMMA) return undefined;
    this.#pos = end;
    return this.#text.slice(start, end);
  }

  #token(): string {
    const start = this.#pos;
    while (!this.#atEnd() && (TCHAR[this.#code()] ?? false)) this.#pos++;
    return this.#text.slice(start, this.#pos);
  }

  #quotedString(): string {
    this.#pos++; // opening quote
    let value = "";
    let chunkStart = this.#pos;
    for (;;) {
      if (this.#atEnd()) throw FAULT;
      const code = this.#code();
      if (code === DQUOTE) {
        value += this.#text.slice(chunkStart, this.#pos);
        this.#pos++;
        return value;
      }
      if (code === BACKSLASH) {
        value += this.#text.slice(chunkStart, this.#pos);
        this.#pos++;
        if (this.#atEnd() || !isQuotedPairChar(this.#code())) throw FAULT;
        chunkStart = this.#pos;
        this.#pos++;
        continue;
      }
      if (!isQdText(code)) throw FAULT;
      this.#pos++;
    }
  }

  #skipSpaces(): void {
    while (!this.#atEnd() && this.#isSpace(this.#code())) this.#pos++;
  }

  /** Empty list elements are allowed (RFC 9110 §5.6.1): skip any run of OWS and commas. */
  #skipListSeparators(): void {
    while (!this.#atEnd() && (this.#isSpace(this.#code()) || this.#code() === COMMA)) this.#pos++;
  }

  #isSpace(code: number): boolean {
    return code === SP || code === HTAB;
  }

  #code(): number {
    return this.#text.charCodeAt(this.#pos);
  }

  #atEnd(): boolean {
    return this.#pos >= this.#text.length;
  }
}

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text. */
function isQdText(code: number): boolean {
  return code === HTAB || code === SP || code === 0x21 || (code >= 0x23 && code <= 0x5b) || (code >= 0x5d && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/** quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ). */
function isQuotedPairChar(code: number): boolean {
  return code === HTAB || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}
