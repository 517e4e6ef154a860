/**
 * The ways a converted rule matches differently from its Sigma rule, in words for the person reviewing it: written
 * into the runbook and printed by the command. Each note is kept once.
 */
export class Notes {
  private readonly notes = new Set<string>();

  add(note: string): void {
    this.notes.add(note);
  }

  list(): string[] {
    return [...this.notes];
  }
}
