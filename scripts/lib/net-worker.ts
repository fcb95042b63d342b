/**
 * Stand-in for pg_net's background worker (the extension itself is stood in by
 * sql/platform/12_pg_net_standin.sql). Like pg_net 0.20 it takes queued requests from
 * `net.http_request_queue` in id order, in batches (pg_net.batch_size 200), deleting them as it
 * takes them; sends each with its method, headers, body and timeout; and records the outcome in
 * `net._http_response` under the request's id — status, content type, headers and body, or
 * `timed_out` / `error_msg` when no answer came. Responses older than pg_net.ttl (6 hours) are
 * deleted. It wakes on `net.wake()` (a NOTIFY here) and polls once a second besides.
 * `npm start` runs it, so pg_cron → pg_net → edge function is the local path as it is the
 * platform's.
 */
import pg from 'pg';

export const NET_WORKER_APPLICATION = 'pg_net stand-in worker';
const WAKE_CHANNEL = 'pg_net_standin_wake';
const BATCH_SIZE = 200;
const TTL = '6 hours';
const POLL_MS = 1_000;

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  timeout_milliseconds: number;
  headers: Record<string, string> | null;
  body: Buffer | null;
}

/** What pg_net stores for one request. */
export interface NetResponse {
  statusCode: number | null;
  contentType: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timedOut: boolean;
  errorMsg: string | null;
}

export interface NetWorker {
  stop(): Promise<void>;
}

/** Sends one queued request the way pg_net's curl handle does; never throws. */
export async function sendRequest(request: Pick<QueuedRequest, 'method' | 'url' | 'timeout_milliseconds' | 'headers' | 'body'>): Promise<NetResponse> {
  const failed = (message: string, timedOut = false): NetResponse =>
    ({ statusCode: null, contentType: null, headers: null, content: null, timedOut, errorMsg: message });
  if (!/^https?:\/\//i.test(request.url)) return failed(`Unsupported protocol: ${request.url.split(':')[0] ?? ''}`);
  try {
    const res = await fetch(request.url, {
      method: request.method.toUpperCase(),
      headers: request.headers ?? {},
      ...(request.body ? { body: new Uint8Array(request.body) } : {}),
      signal: AbortSignal.timeout(request.timeout_milliseconds),
      redirect: 'follow',
    });
    const content = await res.text();
    return {
      statusCode: res.status,
      contentType: res.headers.get('content-type'),
      headers: Object.fromEntries(res.headers.entries()),
      content: content === '' ? null : content,
      timedOut: false,
      errorMsg: null,
    };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return failed(`Timeout of ${request.timeout_milliseconds} ms reached`, true);
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    return failed(cause ?? (error instanceof Error ? error.message : String(error)));
  }
}

/** Claims and sends queued requests until the queue is empty; returns how many it sent. */
export async function drainQueue(client: pg.Client): Promise<number> {
  let sent = 0;
  for (;;) {
    const { rows } = await client.query<QueuedRequest>(
      `with rows as (select id from net.http_request_queue order by id limit $1 for update skip locked)
       delete from net.http_request_queue q using rows where q.id = rows.id
       returning q.id, q.method, q.url, q.timeout_milliseconds, q.headers, q.body`,
      [BATCH_SIZE],
    );
    if (rows.length === 0) return sent;
    const responses = await Promise.all(rows.map((row) => sendRequest(row)));
    for (const [index, row] of rows.entries()) {
      const response = responses[index];
      if (!response) continue;
      await client.query(
        `insert into net._http_response (id, status_code, content, headers, content_type, timed_out, error_msg)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [row.id, response.statusCode, response.content, response.headers, response.contentType, response.timedOut, response.errorMsg],
      );
    }
    sent += rows.length;
  }
}

export async function deleteExpiredResponses(client: pg.Client): Promise<void> {
  await client.query(
    `with rows as (select ctid from net._http_response where created < now() - $1::interval order by created limit $2)
     delete from net._http_response r using rows where r.ctid = rows.ctid`,
    [TTL, BATCH_SIZE],
  );
}

/** Runs until stopped; connects as the platform's superuser, as pg_net's worker does. */
export async function startNetWorker(adminUrl: string, log: (line: string) => void): Promise<NetWorker> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: NET_WORKER_APPLICATION });
  await client.connect();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let pending = false;
  const tick = (): void => {
    if (stopped) return;
    if (pending) return;
    pending = true;
    running = running
      .then(async () => {
        pending = false;
        await drainQueue(client);
        await deleteExpiredResponses(client);
      })
      .catch((error: unknown) => log(`pg_net stand-in: ${error instanceof Error ? error.message : String(error)}`));
  };
  client.on('notification', tick);
  client.on('error', (error) => log(`pg_net stand-in: connection error: ${error.message}`));
  await client.query(`listen ${WAKE_CHANNEL}`);
  const timer = setInterval(tick, POLL_MS);
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      await client.end();
    },
  };
}
