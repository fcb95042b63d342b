/**
 * The Storage API stand-in mounted on the API gateway under /storage/v1 (docs/local-stack.md).
 * Storage checks the JWT itself (the gateway does not), as on the platform.
 *
 * It connects as `postgres`: storage-api connects as `supabase_storage_admin`, which the local
 * platform contract does not make a member of anon / authenticated / service_role, so it could
 * not impersonate callers here; `postgres` can, and RLS applies once the role is switched.
 */
import { z } from "zod";
import type { ApiService, ServiceFactory } from "../api-gateway/service.ts";
import { createStorageCore, DEFAULT_FILE_SIZE_LIMIT } from "./server.ts";

const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1000, KIB: 1024, MB: 1000 ** 2, MIB: 1024 ** 2, GB: 1000 ** 3, GIB: 1024 ** 3 };

/** A config.toml size ("50MiB") in bytes, read as the Supabase CLI reads it. */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*([a-z]+)$/i.exec(text.trim());
  const factor = match?.[2] === undefined ? undefined : SIZE_UNITS[match[2].toUpperCase()];
  if (match === null || factor === undefined) throw new Error(`config.toml: unreadable size ${JSON.stringify(text)}`);
  return Number(match[1]) * factor;
}

const storageConfig = z.looseObject({
  storage: z.looseObject({ file_size_limit: z.string().optional() }).optional(),
});

export const createStorageService: ServiceFactory = async (context): Promise<ApiService> => {
  const limit = storageConfig.parse(context.config).storage?.file_size_limit;
  const core = createStorageCore({
    dbUrl: context.dbUrl,
    jwtSecret: context.jwtSecret,
    fileSizeLimit: limit === undefined ? DEFAULT_FILE_SIZE_LIMIT : parseSize(limit),
    log: context.log,
  });
  return {
    prefix: "/storage/v1",
    description: "Storage API STAND-IN (tools/storage-standin; not Supabase Storage, bytes in memory): upload, download, list, remove, signed and public URLs under RLS on storage.objects",
    handle: ({ req, res, path }) => core.handle(req, res, path),
    close: () => core.close(),
  };
};
