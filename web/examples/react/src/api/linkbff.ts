// linkbff's API, typed from its OpenAPI document (api/openapi.json at the
// repository root). schema.d.ts is generated: `npm run gen:api`.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type LinkTokenRequest = Schemas["LinkTokenRequest"];
export type ErrorCode = Schemas["ErrorCode"];
// The fields App.jsx reads, named here so `npm run typecheck` fails when
// the document stops providing one.
export type LinkToken = Pick<Schemas["LinkToken"], "link_token" | "link_web_url">;
export type DevToken = Pick<Schemas["DevToken"], "token" | "user">;
export type ConnectionList = { connections: Pick<Schemas["Connection"], "provider" | "name" | "status" | "error_type">[] };
/** One event of GET /v1/events (its `data:`). */
export type StreamEvent = Schemas["StreamEvent"];

/** What followEvents tells its caller. */
export interface EventHandlers {
  /** An event for the signed-in user, the moment linkbff stored it. */
  onEvent(event: StreamEvent): void;
  /** The stream opened (true) or dropped and is reconnecting (false). */
  onLive?(live: boolean): void;
}

// The reconnection delay when the server gave none (SSE's retry:).
const DEFAULT_RETRY_MS = 3000;

/** Reads Server-Sent Events blocks from a byte stream. */
async function* sseBlocks(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event?: string; data: string[]; retry?: number }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let block: { id?: string; event?: string; data: string[]; retry?: number } = { data: [] };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        yield block;
        block = { data: [] };
        continue;
      }
      if (line.startsWith(":")) continue; // a comment: heartbeats
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") block.data.push(text);
      else if (field === "id") block.id = text;
      else if (field === "event") block.event = text;
      else if (field === "retry" && /^[0-9]+$/.test(text)) block.retry = Number(text);
    }
  }
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/** A linkbff error: `code` says what to do about it (see ErrorCode). */
export class LinkbffError extends Error {
  readonly status: number;
  readonly code: ErrorCode | undefined;
  readonly field: string | undefined;
  readonly requestId: string | null;

  constructor(response: Response, body: unknown) {
    const detail = (body as Schemas["Error"] | undefined)?.error;
    super(detail?.message ?? `linkbff answered ${response.status}`);
    this.name = "LinkbffError";
    this.status = response.status;
    this.code = detail?.code;
    this.field = detail?.field;
    this.requestId = response.headers.get("X-Request-Id");
  }
}

/** A client for the linkbff at baseUrl ("" for the page's own origin). */
export function linkbffClient(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  return {
    /** Mints a Junction Link token for the holder of jwt. */
    async linkToken(jwt: string, body: LinkTokenRequest = {}): Promise<LinkToken> {
      const { data, error, response } = await client.POST("/v1/link/token", {
        headers: { Authorization: `Bearer ${jwt}` },
        body,
      });
      if (!data) throw new LinkbffError(response, error);
      return data;
    },

    /** Lists the connections of the holder of jwt. */
    async connections(jwt: string): Promise<ConnectionList> {
      const { data, error, response } = await client.GET("/v1/connections", {
        headers: { Authorization: `Bearer ${jwt}` },
      });
      if (!data) throw new LinkbffError(response, error);
      return data;
    },

    /**
     * Follows the events of the holder of jwt (GET /v1/events) until signal
     * aborts, reconnecting with Last-Event-ID so nothing is missed. It reads
     * the stream with fetch: EventSource cannot send the Authorization
     * header, and a token never belongs in a URL. Throws a LinkbffError when
     * linkbff refuses the token (401): sign the user in again.
     */
    async followEvents(jwt: string, handlers: EventHandlers, signal: AbortSignal): Promise<void> {
      let lastEventId = "";
      let retryMs = DEFAULT_RETRY_MS;
      while (!signal.aborted) {
        try {
          const { data, error, response } = await client.GET("/v1/events", {
            headers: { Authorization: `Bearer ${jwt}`, Accept: "text/event-stream", ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
            parseAs: "stream",
            signal,
          });
          if (!data) {
            const refused = new LinkbffError(response, error);
            if (response.status === 401) throw refused;
            retryMs = Number(response.headers.get("Retry-After") ?? "") * 1000 || retryMs;
          } else {
            handlers.onLive?.(true);
            for await (const block of sseBlocks(data)) {
              if (block.id !== undefined) lastEventId = block.id;
              if (block.retry !== undefined) retryMs = block.retry;
              if (block.event && block.data.length) handlers.onEvent(JSON.parse(block.data.join("\n")) as StreamEvent);
            }
          }
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof LinkbffError) throw err;
          // The connection dropped: reconnect below.
        }
        handlers.onLive?.(false);
        await wait(Math.max(retryMs, 250), signal);
      }
    },

    /** Dev mode only: a short-lived JWT for any user name. */
    async devToken(user: string): Promise<DevToken> {
      const { data, error, response } = await client.POST("/_dev/token", { body: { user } });
      if (!data) throw new LinkbffError(response, error);
      return data;
    },
  };
}
