/**
 * A tiny HTTP server on 127.0.0.1 (port 0: the OS picks) for the provider stand-ins, and the
 * "fail on demand" queue they share.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface StandInResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function serve(handle: (req: StandInRequest) => StandInResponse | Promise<StandInResponse>): Promise<RunningServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const answer = await handle({
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
        res.end(answer.body === null ? "" : JSON.stringify(answer.body));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/** A queued failure: answer the next request with this status (and optional Retry-After). */
export interface InjectedFailure {
  status: number;
  retryAfterSeconds?: number;
  /** Provider-specific error code (Twilio), when the status alone is not enough. */
  code?: number;
  /** Hold the answer back this long (past the client's timeout: a hanging provider). */
  hangMs?: number;
  /**
   * With hangMs: process the request normally (the message IS sent) and only then hang, so
   * the client times out on a request that succeeded — the indeterminate case. `status` is
   * then ignored.
   */
  sendFirst?: boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FailureQueue {
  private queue: InjectedFailure[] = [];
  private always: InjectedFailure | null = null;

  /** The next `count` requests fail with `failure`. */
  failNext(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.queue.push(failure);
  }

  /** Every request fails until `recover()`. */
  failAlways(failure: InjectedFailure): void {
    this.always = failure;
  }

  recover(): void {
    this.queue = [];
    this.always = null;
  }

  take(): InjectedFailure | null {
    return this.queue.shift() ?? this.always;
  }
}
