/**
 * What a fold did with one event, in words the timeline shows: applied (and
 * what changed) or ignored (and why). An ignored event leaves the state
 * deep-equal, except the session fold's out-of-order marker (see SessionViewFold).
 */
export type FoldOutcome =
  | { readonly _tag: "Applied"; readonly change: string }
  | { readonly _tag: "Ignored"; readonly reason: string }

export interface Folded<S> {
  readonly state: S
  readonly outcome: FoldOutcome
}

export const applied = (change: string): FoldOutcome => ({ _tag: "Applied", change })
export const ignored = (reason: string): FoldOutcome => ({ _tag: "Ignored", reason })

/** The shape of the projector runner's port: `{applied, reason}`. */
export const toRunnerOutcome = (outcome: FoldOutcome): { readonly applied: boolean; readonly reason: string | null } =>
  outcome._tag === "Applied" ? { applied: true, reason: null } : { applied: false, reason: outcome.reason }
