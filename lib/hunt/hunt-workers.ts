import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CompiledAlertRule } from '../rules/types.ts';
import { type HuntedWindow, huntWindow, type WindowJob } from './hunt-window.ts';

/**
 * Where windows are hunted: on the calling thread, or on threads of their own. Decoding and matching a window needs
 * nothing from any other (hunt-window.ts), so a machine with more than one core hunts as many windows at once; the
 * calling thread keeps the reading, the order and the detector.
 */
export interface WindowHunter {
  hunt(job: WindowJob): Promise<HuntedWindow>;
  close(): Promise<void>;
}

/** Hunts each window on the calling thread: for small archives, where starting threads would cost more. */
export const inlineHunter = (rules: readonly CompiledAlertRule[]): WindowHunter => ({
  hunt: async (job) => huntWindow(job, rules),
  close: async () => {},
});

/** Threads for a hunt of `events` events: one per core, none on one core or for fewer events than they would repay. */
export function threadsFor(events: number): number {
  const cores = availableParallelism();
  return cores > 1 && events >= THREADS_FROM_EVENTS ? Math.min(cores, MAX_THREADS) : 0;
}

/** Below this many events, a hunt takes less time than starting a thread (which loads the rules and matcher). */
const THREADS_FROM_EVENTS = 20_000;
const MAX_THREADS = 8;

type Reply = { readonly hunted: HuntedWindow } | { readonly failed: string };

/** Hunts windows on `count` threads, each window on the thread with the fewest waiting. */
export function threadHunter(rules: readonly CompiledAlertRule[], count: number): WindowHunter {
  const threads = Array.from({ length: count }, () => {
    const worker = new Worker(new URL('./hunt-worker.js', import.meta.url), { workerData: { rules } });
    const waiting: Array<{ resolve: (hunted: HuntedWindow) => void; reject: (error: Error) => void }> = [];
    const thread = { worker, waiting, failed: undefined as Error | undefined };
    // A thread that failed or exited takes no more windows: each is refused at once rather than left waiting.
    const failAll = (error: Error) => {
      thread.failed ??= error;
      for (const pending of waiting.splice(0)) pending.reject(error);
    };
    worker.on('message', (reply: Reply) => {
      const pending = waiting.shift();
      if ('hunted' in reply) pending?.resolve(reply.hunted);
      else pending?.reject(new Error(`a hunt thread failed: ${reply.failed}`));
    });
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => failAll(new Error(`a hunt thread exited (${code}) with windows unhunted`)));
    return thread;
  });
  return {
    hunt(job) {
      const thread = threads.reduce((least, each) => (each.waiting.length < least.waiting.length ? each : least));
      return new Promise<HuntedWindow>((resolve, reject) => {
        if (thread.failed !== undefined) {
          reject(thread.failed);
          return;
        }
        thread.waiting.push({ resolve, reject });
        thread.worker.postMessage(job);
      });
    },
    async close() {
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
    },
  };
}
