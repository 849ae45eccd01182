import { request } from "node:https";

/** Milliseconds from sending a GET to receiving its headers, trusting only the given CA. */
export function timeToHeaders(url: string, caPem: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { ca: caPem }, (response) => {
      const ms = performance.now() - started;
      response.resume();
      response.on("end", () => resolve({ ms, status: response.statusCode ?? 0 }));
    })
      .on("error", reject)
      .end();
  });
}
