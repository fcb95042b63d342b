/**
 * CORS for browser apps calling functions with supabase-js, as in Supabase's examples
 * (`_shared/cors.ts`): any origin, the headers supabase-js sends, and a preflight answer.
 * Auth is by bearer token, never cookies, so a wildcard origin is safe here.
 */
export const corsHeaders: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type, x-region",
  "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "Access-Control-Max-Age": "86400",
};

/** The preflight response for an OPTIONS request, or null for any other method. */
export function preflight(req: Request): Response | null {
  return req.method === "OPTIONS" ? new Response(null, { status: 204, headers: corsHeaders }) : null;
}

/** The same response with the CORS headers added (headers of a fetched Response are immutable). */
export function withCors(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [name, value] of Object.entries(corsHeaders)) headers.set(name, value);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
