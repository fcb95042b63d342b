/**
 * Storage as an app uses it, through supabase-js only: an avatar into the public `avatars`
 * bucket (the owner's folder) shown at its public URL, an image into the private `chat-media`
 * bucket by a conversation member and sent as a message, read back by the other member, and
 * refused to a stranger (download, signed URL, listing) and to anyone writing outside their folder.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, signUpUser, type SignedUpUser } from './support/clients.ts';

// A 1×1 PNG.
const PNG = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
const png = (): Blob => new Blob([PNG], { type: 'image/png' });

let alice: SignedUpUser;
let bob: SignedUpUser;
let stranger: SignedUpUser;

beforeAll(async () => {
  [alice, bob, stranger] = await Promise.all([signUpUser('stalice'), signUpUser('stbob'), signUpUser('ststranger')]);
});

describe('avatars', () => {
  it('uploads an avatar into the owner\'s folder, links it from the profile and serves it publicly', async () => {
    const path = `${alice.user.id}/avatar.png`;
    const avatars = alice.client.storage.from('avatars');
    const uploaded = await avatars.upload(path, png(), { upsert: true });
    expect(uploaded.error).toBeNull();
    expect(uploaded.data?.fullPath).toBe(`avatars/${path}`);
    const profile = await alice.client.from('profiles').update({ avatar_path: path }).eq('id', alice.user.id).select('avatar_path').single();
    expect(profile.error).toBeNull();
    expect(profile.data?.avatar_path).toBe(path);

    const served = await fetch(anonClient().storage.from('avatars').getPublicUrl(path).data.publicUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);
  });

  it('refuses an upload into someone else\'s folder and a type the bucket does not allow', async () => {
    const intruder = await bob.client.storage.from('avatars').upload(`${alice.user.id}/avatar.png`, png(), { upsert: true });
    expect(intruder.error?.message).toBe('new row violates row-level security policy');
    const text = await bob.client.storage.from('avatars').upload(`${bob.user.id}/notes.txt`, new Blob(['hello'], { type: 'text/plain' }));
    expect(text.error?.message).toBe('mime type text/plain is not supported');
  });
});

describe('chat-media', () => {
  it('lets a member send a photo the other member can read, and keeps it from a stranger', async () => {
    const started = await alice.client.rpc('start_direct_conversation', { p_user_id: bob.user.id });
    expect(started.error).toBeNull();
    const conversationId = (started.data as { id: string }).id;
    const path = `${conversationId}/${alice.user.id}/${crypto.randomUUID()}.png`;

    const uploaded = await alice.client.storage.from('chat-media').upload(path, png());
    expect(uploaded.error).toBeNull();
    const sent = await alice.client.rpc('send_message', { p_conversation_id: conversationId, p_kind: 'image', p_attachment_path: path, p_body: 'the venue' });
    expect(sent.error).toBeNull();

    const downloaded = await bob.client.storage.from('chat-media').download(path);
    expect(downloaded.error).toBeNull();
    expect(new Uint8Array(await downloaded.data!.arrayBuffer())).toEqual(PNG);
    const signed = await bob.client.storage.from('chat-media').createSignedUrl(path, 60);
    expect(signed.error).toBeNull();
    expect((await fetch(signed.data!.signedUrl)).status).toBe(200);

    const media = stranger.client.storage.from('chat-media');
    const refused = await media.download(path);
    expect(refused.data).toBeNull();
    expect(refused.error).not.toBeNull();
    expect((await media.createSignedUrl(path, 60)).error?.message).toBe('Object not found');
    expect((await media.list(conversationId)).data).toEqual([]);
    const outside = await bob.client.storage.from('chat-media').upload(`${conversationId}/${alice.user.id}/forged.png`, png());
    expect(outside.error?.message).toBe('new row violates row-level security policy');
  });
});
