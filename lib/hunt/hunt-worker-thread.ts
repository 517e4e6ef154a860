import { parentPort, workerData } from 'node:worker_threads';
import type { CompiledAlertRule } from '../rules/types.ts';
import { huntWindow, type WindowJob } from './hunt-window.ts';

/** The body of a hunt thread: hunts each window it is sent with the rules it was started with, in the order sent. */

const rules = (workerData as { rules: readonly CompiledAlertRule[] }).rules;
parentPort?.on('message', (job: WindowJob) => {
  try {
    parentPort?.postMessage({ hunted: huntWindow(job, rules) });
  } catch (error) {
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
});
