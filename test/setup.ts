import { afterAll, vi } from "vitest";

// Test files share a worker's module graph (vitest.config.ts, isolate: false): a file that switched to fake
// timers must not hand them to the next file.
afterAll(() => {
  vi.useRealTimers();
});
