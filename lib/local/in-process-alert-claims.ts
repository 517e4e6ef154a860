import type { AlertClaims } from '../../lambdas/alert/process-alert.ts';
import { alertClaimKey } from '../../lambdas/shared/dynamo-alert-claims.ts';

const SECONDS_PER_DAY = 86_400;

/**
 * Alert claims in this process, with the semantics of the alert-claims table (lambdas/shared/dynamo-alert-claims.ts):
 * one claim per (rule id, event uuid, case aside), taken only if none is held or the one held has expired, so an alert
 * is raised once however often its message is delivered; a claim given back can be taken again.
 */
export const createInProcessAlertClaims = (options: {
  /** How long a claim stops repeats of the same alert. */
  readonly retentionDays: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
}): AlertClaims => {
  /** Claim key -> when it expires (epoch seconds), as the table's `expiresAt`. */
  const claims = new Map<string, number>();
  return {
    async claim(ruleId, uuid) {
      const nowSeconds = Math.floor(options.now() / 1000);
      const key = alertClaimKey(ruleId, uuid);
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && !(expiresAt < nowSeconds)) return false;
      claims.set(key, nowSeconds + options.retentionDays * SECONDS_PER_DAY);
      return true;
    },
    async release(ruleId, uuid) {
      claims.delete(alertClaimKey(ruleId, uuid));
    },
  };
};
