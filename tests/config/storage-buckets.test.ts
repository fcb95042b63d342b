// supabase/config.toml declares the Storage buckets for `supabase start`; the storage_buckets
// migration creates them on a hosted project and in the Docker-less stack. They must agree.
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "smol-toml";
import { parseSize } from "../../tools/storage-standin/service.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";

interface BucketConfig {
  public: boolean;
  fileSizeLimit: number;
  allowedMimeTypes: string[];
}

async function bucketsInConfig(): Promise<Map<string, BucketConfig>> {
  const config = parse(await readFile(new URL("../../supabase/config.toml", import.meta.url), "utf8"));
  const storage = config["storage"] as { buckets?: Record<string, Record<string, unknown>> };
  const buckets = new Map<string, BucketConfig>();
  for (const [id, bucket] of Object.entries(storage.buckets ?? {})) {
    buckets.set(id, {
      public: bucket["public"] === true,
      fileSizeLimit: parseSize(String(bucket["file_size_limit"])),
      allowedMimeTypes: [...((bucket["allowed_mime_types"] as string[] | undefined) ?? [])].sort(),
    });
  }
  return buckets;
}

afterAll(closeTestPools);

describe("storage buckets", () => {
  it("match supabase/config.toml exactly (ids, visibility, size and MIME limits)", async () => {
    const configured = await bucketsInConfig();
    const { rows } = await ownerQuery<{ id: string; public: boolean; file_size_limit: string; allowed_mime_types: string[] }>(
      "select id, public, file_size_limit, allowed_mime_types from storage.buckets order by id",
    );
    const inDatabase = new Map(
      rows.map((row) => [
        row.id,
        { public: row.public, fileSizeLimit: Number(row.file_size_limit), allowedMimeTypes: [...row.allowed_mime_types].sort() },
      ]),
    );
    expect([...configured.keys()].sort()).toEqual(["avatars", "chat-media", "event-covers"]);
    expect(Object.fromEntries(inDatabase)).toEqual(Object.fromEntries(configured));
  });
});
