/**
 * The wrapper every function's handler is built with, so handlers only hold their own logic:
 * CORS preflight, 405 for methods the function does not serve, CORS headers on every answer,
 * and any thrown error rendered as the standard JSON error (never a bare 500 page).
 */
import { corsHeaders, preflight, withCors } from "./cors.ts";
import { errorResponse, methodNotAllowed } from "./http-errors.ts";

export type Handler = (req: Request) => Promise<Response>;
export type MethodHandler = (req: Request) => Promise<Response> | Response;
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** `routeByMethod({ GET: async (req) => json(…) })` → a `(req) => Promise<Response>` for `Deno.serve`. */
export function routeByMethod(routes: Partial<Record<Method, MethodHandler>>): Handler {
  const allowed = [...Object.keys(routes), "OPTIONS"];
  return async (req) => {
    const pre = preflight(req);
    if (pre !== null) return pre;
    try {
      const route = routes[req.method as Method];
      if (route === undefined) throw methodNotAllowed(req.method, allowed);
      return withCors(await route(req));
    } catch (err) {
      return errorResponse(err, { headers: corsHeaders });
    }
  };
}
