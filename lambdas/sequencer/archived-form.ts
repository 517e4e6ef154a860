import type { Redaction } from '../shared/pii.ts';
import { contentHash, type StagedEvent } from '../shared/staged-event.ts';

/**
 * The staged events as the archive holds them. Without PII redaction, as staged: each line is the event's text as
 * received. With it, each line is the redacted event (re-serialised: key order kept, whitespace dropped), and the key
 * the archive knows it by is `<uuid>#<hash of the redacted content>`, as a reader of the line computes it: the late
 * parts' event lists, the take-over of an unlisted part, the check of what a window already holds and the conflicts
 * all compare archived forms with archived forms. The staged items keep their own keys (dedupe, partitions, the
 * archived flag); the raw content's hash never reaches the archive, where it would let anyone test guesses of a
 * redacted value against it.
 *
 * Two contents of one uuid that differ only in redacted values have one archived form: it is archived once.
 */
export const archivedForms = (events: readonly StagedEvent[], redaction: Redaction | undefined): StagedEvent[] => {
  if (redaction === undefined) return [...events];
  const forms = new Map<string, StagedEvent>();
  for (const event of events) {
    const content = redaction.event(JSON.parse(event.body));
    const hash = contentHash(content);
    const sk = `${event.uuid}#${hash}`;
    if (!forms.has(sk)) forms.set(sk, { ...event, sk, hash, body: JSON.stringify(content) });
  }
  return [...forms.values()];
};
