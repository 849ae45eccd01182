import type { RunPorts } from "../../src/runner.js";

/**
 * What the steps asked of the tenant, in the order things happened: each call of the directory, the
 * applications or the environment as it started and as it settled. Counting round trips from this log,
 * rather than from timestamps, depends on the order of events alone, never on the machine's speed: two
 * calls started before either's answer could arrive (one pass of the event loop) overlapped.
 */
export interface CallEvent {
  call: number;
  name: string;
  phase: "start" | "end";
}

const SERVICES = ["directory", "applications", "environment"] as const;

function recordingProxy<T extends object>(target: T, service: string, log: CallEvent[]): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const call = log.filter((e) => e.phase === "start").length + 1;
        const name = `${service}.${String(property)}`;
        log.push({ call, name, phase: "start" });
        const result = (value as (...a: unknown[]) => unknown).apply(object, args);
        if (!(result instanceof Promise)) {
          log.push({ call, name, phase: "end" });
          return result;
        }
        return result.finally(() => log.push({ call, name, phase: "end" }));
      };
    },
  });
}

/** Records every tenant call the run's reads and writes make (the ports are changed in place). */
export function recordTenantCalls(ports: RunPorts): CallEvent[] {
  const log: CallEvent[] = [];
  const wrap = <S extends Record<(typeof SERVICES)[number], object>>(session: S): S => {
    const wrapped = { ...session };
    for (const service of SERVICES) (wrapped as Record<string, object>)[service] = recordingProxy(session[service], service, log);
    return wrapped;
  };
  const reads = ports.reads.tenant.bind(ports.reads);
  const writes = ports.writes.tenant.bind(ports.writes);
  ports.reads.tenant = async () => wrap(await reads());
  ports.writes.tenant = async () => wrap(await writes());
  return log;
}

/** Whether a call named `second` started while a call named `first` was waiting for its answer. */
export function overlapped(log: readonly CallEvent[], first: string, second: string): boolean {
  const open = new Set<number>();
  for (const event of log) {
    if (event.name === first) event.phase === "start" ? open.add(event.call) : open.delete(event.call);
    else if (event.name === second && event.phase === "start" && open.size > 0) return true;
  }
  return false;
}

/**
 * The calls in rounds, as the benchmark groups requests: a call's round is one more than the highest round
 * among the calls that had settled when it started. The number of rounds is the longest chain of calls
 * made one after another.
 */
export function callRounds(log: readonly CallEvent[]): string[][] {
  const roundOf = new Map<number, number>();
  const settled: number[] = [];
  const names = new Map<number, string>();
  for (const event of log) {
    if (event.phase === "end") {
      settled.push(event.call);
      continue;
    }
    names.set(event.call, event.name);
    roundOf.set(event.call, 1 + Math.max(0, ...settled.map((call) => roundOf.get(call)!)));
  }
  const rounds: string[][] = [];
  for (const [call, round] of roundOf) (rounds[round - 1] ??= []).push(names.get(call)!);
  return rounds;
}
