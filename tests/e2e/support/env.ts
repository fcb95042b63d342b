/**
 * What the e2e suite knows about the project: the API URL and keys from the environment, exactly
 * what an app is configured with. `npm test` sets them for the local stack; for `supabase start`
 * or a hosted project, export them from `supabase status` / the dashboard (docs/local-stack.md, "The e2e suite").
 */
export interface ProjectEnv {
  url: string;
  anonKey: string;
  /** Only for steps an admin or a server would take (creating a user as admin, service RPCs). */
  serviceRoleKey: string | null;
}

export function projectEnv(): ProjectEnv {
  const url = process.env.SUPABASE_URL;
  const anonKey = process.env.SUPABASE_ANON_KEY;
  if (!url || !anonKey) {
    throw new Error('tests/e2e needs SUPABASE_URL and SUPABASE_ANON_KEY (and SUPABASE_SERVICE_ROLE_KEY for admin steps); npm test sets them for the local stack');
  }
  return { url: url.replace(/\/+$/, ''), anonKey, serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY || null };
}
