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

    /** Dev mode only: a short-lived JWT for any user name. */
    async devToken(user: string): Promise<DevToken> {
      const { data, error, response } = await client.POST("/_dev/token", { body: { user } });
      if (!data) throw new LinkbffError(response, error);
      return data;
    },
  };
}
