/**
 * A standard `Response` over a body that is already in memory.
 *
 * `new Response(bytes)` wraps the bytes in a `ReadableStream` up front, and `json()`
 * then reads them back through that stream: together they cost about as much as the
 * token request's own parsing. This subclass is constructed with no body (cheap) and
 * serves the body methods straight from the bytes; the stream is only built if someone
 * asks for `response.body`. It is still `instanceof Response`, with real `Headers`.
 */

interface ResponseLike {
  readonly headers: Headers;
  readonly status: number;
  readonly statusText: string;
}

// Typed loosely on purpose: the global Response type differs between the DOM lib and
// @types/node (methods vs readonly properties), and this file must compile under both.
const ResponseBase = Response as unknown as new (body: null, init: ResponseInit) => ResponseLike;

const decoder = new TextDecoder();

class BufferedResponse extends ResponseBase {
  readonly #bytes: Uint8Array | null;
  readonly #url: string;
  #used = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(bytes: Uint8Array | null, init: ResponseInit, url: string) {
    super(null, init);
    this.#bytes = bytes;
    this.#url = url;
  }

  get url(): string {
    return this.#url;
  }

  get body(): ReadableStream<Uint8Array> | null {
    const bytes = this.#bytes;
    if (bytes === null) return null;
    if (this.#stream === undefined) {
      let sent = false;
      this.#stream = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          this.#used = true;
          if (!sent && bytes.byteLength > 0) controller.enqueue(bytes.slice());
          sent = true;
          controller.close();
        },
      });
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async text(): Promise<string> {
    const bytes = this.#take();
    return bytes === null ? "" : decoder.decode(bytes);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    if (bytes === null) return new ArrayBuffer(0);
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return copy.buffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    const type = this.headers.get("content-type") ?? "";
    return new Blob([await this.arrayBuffer()], { type });
  }

  async formData(): Promise<FormData> {
    // Rare on this path: let a plain Response parse it.
    const bytes = this.#take();
    const plain = new Response(bytes as unknown as ConstructorParameters<typeof Response>[0], { headers: this.headers }) as unknown as { formData(): Promise<FormData> };
    return plain.formData();
  }

  clone(): Response {
    if (this.#used || this.#stream !== undefined) {
      throw new TypeError("Response.clone: the body has already been read or locked.");
    }
    return new BufferedResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers }, this.#url) as unknown as Response;
  }

  #take(): Uint8Array | null {
    if (this.#used || this.#stream !== undefined) {
      throw new TypeError("Body is unusable: the body has already been read.");
    }
    this.#used = true;
    return this.#bytes;
  }
}

/**
 * A `Response` with `bytes` as its body (`null` for null-body statuses), `headers`
 * and `url`, built as cheaply as the runtime allows.
 */
export function bufferedResponse(
  bytes: Uint8Array | null,
  status: number,
  statusText: string,
  headers: [string, string][],
  url: string,
): Response {
  return new BufferedResponse(bytes, { status, statusText, headers }, url) as unknown as Response;
}
