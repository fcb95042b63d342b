// The Storage API stand-in (tools/storage-standin) driven by the real storage-js inside
// supabase-js, against the throwaway database with Rally's storage.objects policies: uploads and
// reads under RLS as the caller, bucket MIME and size limits, upsert, list, remove, signed and
// public URLs, storage-api's error bodies, and 501 for what it does not serve.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStorageStandin, type StorageStandin } from "../../tools/storage-standin/server.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { groupWithMembers } from "../support/groups.ts";
import { testEnv } from "../support/env.ts";
import { anonKey } from "../support/jwt.ts";
import { createUser, type TestUser } from "../support/users.ts";

let storage: StorageStandin;
let anon: string;

// A 1×1 PNG.
const PNG = Uint8Array.from(Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64"));
const png = (): Blob => new Blob([PNG], { type: "image/png" });

beforeAll(async () => {
  storage = await startStorageStandin({ dbUrl: testEnv("SUPABASE_DB_URL"), jwtSecret: testEnv("SUPABASE_JWT_SECRET") });
  anon = await anonKey();
});

afterAll(async () => {
  await storage?.close();
  await closeTestPools();
});

/** A client acting for `user` (its access token on every request), or anonymously. */
function clientFor(user: TestUser | null): SupabaseClient {
  return createClient(storage.url, anon, { accessToken: async () => user?.token ?? anon });
}

interface StorageFailure {
  message: string;
  status?: number;
  statusCode?: string;
}

describe("Storage stand-in: avatars (public bucket, owners write their folder)", () => {
  it("uploads, serves the public URL, refuses a duplicate without upsert and replaces with it", async () => {
    const sam = await createUser();
    const avatars = clientFor(sam).storage.from("avatars");
    const path = `${sam.id}/avatar.png`;
    const { data, error } = await avatars.upload(path, png());
    expect(error).toBeNull();
    expect(data).toMatchObject({ path, fullPath: `avatars/${path}` });
    const { rows } = await ownerQuery<{ owner: string; metadata: { size: number; mimetype: string } }>(
      "select owner, metadata from storage.objects where bucket_id = 'avatars' and name = $1", [path]);
    expect(rows[0]).toMatchObject({ owner: sam.id, metadata: { size: PNG.byteLength, mimetype: "image/png" } });

    const publicUrl = avatars.getPublicUrl(path).data.publicUrl;
    const served = await fetch(publicUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);

    const again = await avatars.upload(path, png());
    expect(again.error).toMatchObject({ message: "The resource already exists", statusCode: "409" } satisfies StorageFailure);
    const bigger = new Blob([PNG, new Uint8Array(10)], { type: "image/png" });
    expect((await avatars.upload(path, bigger, { upsert: true })).error).toBeNull();
    expect((await (await fetch(publicUrl)).arrayBuffer()).byteLength).toBe(PNG.byteLength + 10);
  });

  it("refuses another user's folder by RLS, a disallowed type and a file over the bucket limit", async () => {
    const [sam, priya] = [await createUser(), await createUser()];
    const avatars = clientFor(sam).storage.from("avatars");
    expect((await avatars.upload(`${priya.id}/avatar.png`, png())).error)
      .toMatchObject({ message: "new row violates row-level security policy", statusCode: "403" } satisfies StorageFailure);
    expect((await avatars.upload(`${sam.id}/notes.txt`, new Blob(["hi"], { type: "text/plain" }))).error)
      .toMatchObject({ message: "mime type text/plain is not supported", statusCode: "415" } satisfies StorageFailure);
    const tooBig = new Blob([new Uint8Array(2 * 1024 * 1024 + 1)], { type: "image/png" });
    expect((await avatars.upload(`${sam.id}/big.png`, tooBig)).error)
      .toMatchObject({ message: "The object exceeded the maximum allowed size", statusCode: "413" } satisfies StorageFailure);
    expect((await clientFor(null).storage.from("avatars").upload("anon/avatar.png", png())).error?.message)
      .toBe("new row violates row-level security policy");
    const { rowCount } = await ownerQuery("select 1 from storage.objects where bucket_id = 'avatars' and name like any ($1)",
      [[`${priya.id}/%`, `${sam.id}/notes.txt`, `${sam.id}/big.png`, "anon/%"]]);
    expect(rowCount).toBe(0);
  });

  it("removes the owner's file, after which the public URL answers Object not found", async () => {
    const sam = await createUser();
    const avatars = clientFor(sam).storage.from("avatars");
    const path = `${sam.id}/old.png`;
    expect((await avatars.upload(path, png())).error).toBeNull();
    const removed = await avatars.remove([path]);
    expect(removed.error).toBeNull();
    expect(removed.data?.map((o) => o.name)).toEqual([path]);
    const gone = await fetch(avatars.getPublicUrl(path).data.publicUrl);
    expect(gone.status).toBe(400);
    expect(await gone.json()).toMatchObject({ statusCode: "404", error: "not_found", message: "Object not found" });
  });
});

describe("Storage stand-in: chat-media (private bucket, members only)", () => {
  const conversationOf = (owner: TestUser, members: TestUser[]): Promise<string> => groupWithMembers(owner, members, "media");

  it("lets a member upload into their folder; members download, list and sign; a stranger gets nothing", async () => {
    const [maya, tom, stranger] = [await createUser(), await createUser(), await createUser()];
    const conversation = await conversationOf(maya, [tom]);
    const path = `${conversation}/${tom.id}/photo.png`;
    expect((await clientFor(tom).storage.from("chat-media").upload(path, png())).error).toBeNull();
    expect((await clientFor(tom).storage.from("chat-media").upload(`${conversation}/${maya.id}/fake.png`, png())).error?.message)
      .toBe("new row violates row-level security policy");

    const download = await clientFor(maya).storage.from("chat-media").download(path);
    expect(download.error).toBeNull();
    expect(new Uint8Array(await download.data!.arrayBuffer())).toEqual(PNG);

    const listed = await clientFor(maya).storage.from("chat-media").list(conversation);
    expect(listed.error).toBeNull();
    expect(listed.data?.map((entry) => entry.name)).toEqual([tom.id]);
    const files = await clientFor(maya).storage.from("chat-media").list(`${conversation}/${tom.id}`);
    expect(files.data?.map((entry) => [entry.name, (entry.metadata as { size?: number } | null)?.size])).toEqual([["photo.png", PNG.byteLength]]);

    const signed = await clientFor(maya).storage.from("chat-media").createSignedUrl(path, 60);
    expect(signed.error).toBeNull();
    const viaSigned = await fetch(signed.data!.signedUrl);
    expect(viaSigned.status).toBe(200);
    expect(new Uint8Array(await viaSigned.arrayBuffer())).toEqual(PNG);
    const tampered = await fetch(signed.data!.signedUrl.replace("photo.png", "other.png"));
    expect(await tampered.json()).toMatchObject({ statusCode: "400", error: "InvalidSignature" });

    const outsider = clientFor(stranger).storage.from("chat-media");
    expect((await outsider.download(path)).error).not.toBeNull();
    expect((await outsider.createSignedUrl(path, 60)).error?.message).toBe("Object not found");
    expect((await outsider.list(conversation)).data).toEqual([]);
    const many = await outsider.createSignedUrls([path], 60);
    expect(many.data).toEqual([{ error: "Either the object does not exist or you do not have access to it", path, signedURL: null, signedUrl: null }]);
    expect((await fetch(`${storage.url}/storage/v1/object/public/chat-media/${path}`)).status).toBe(400);
  });

  it("needs a project JWT and answers 501 for what it does not serve", async () => {
    const bare = await fetch(`${storage.url}/storage/v1/object/list/avatars`, { method: "POST", body: "{}" });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ statusCode: "403", error: "Unauthorized" });
    const sam = await createUser();
    const moved = await clientFor(sam).storage.from("avatars").move(`${sam.id}/a.png`, `${sam.id}/b.png`);
    expect(moved.error?.message).toBe("the Storage stand-in does not support POST /object/move");
  });
});
