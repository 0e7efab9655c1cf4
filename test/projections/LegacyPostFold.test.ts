import { describe, expect, it } from "@effect/vitest"
import { shownContentState } from "../../projections/ShownState.ts"
import { busy, foldView, legacy, pl, T0 } from "./views.ts"

const contentState = (fields: Record<string, unknown>) => ({
  status: "working",
  sessionTitle: "Fix auth",
  lastMessage: "Installing",
  retryInfo: null,
  ...fields
})

describe("legacy /v1/event posts", () => {
  it("start begins a turn showing the post's content-state", () => {
    const { view, outcomes } = foldView([legacy("start", { contentState: contentState({}) }, 100)])
    expect(outcomes[0]).toEqual({ _tag: "Applied", change: "legacy start: working" })
    expect(view.serverId).toBe("legacy-srv")
    expect(shownContentState(view, T0 + 200, 5000)).toEqual({
      status: "working",
      sessionTitle: "Fix auth",
      lastMessage: "Installing",
      retryInfo: null,
      startedAt: Math.floor((T0 + 100) / 1000)
    })
  })

  it("progress updates the running turn; a start begins a new one", () => {
    const progressed = foldView([legacy("start", { contentState: contentState({}) }, 100), legacy("progress", { contentState: contentState({ lastMessage: "Running tests" }) }, 200)])
    expect(progressed.view.turn?.number).toBe(1)
    expect(progressed.view.lastMessage).toBe("Running tests")
    const restarted = foldView([legacy("start", { contentState: contentState({}) }, 100), legacy("start", { contentState: contentState({}) }, 200)])
    expect(restarted.view.turn?.number).toBe(2)
  })

  it("progress without a running turn starts one; title and body stand in for a missing content-state", () => {
    const { view } = foldView([legacy("progress", { title: "Deploy", body: "Uploading" }, 100)])
    expect(shownContentState(view, T0 + 200, 5000)).toMatchObject({ status: "working", sessionTitle: "Deploy", lastMessage: "Uploading" })
  })

  it("a retry content-state shows its retry info", () => {
    const { view } = foldView([legacy("progress", { contentState: contentState({ status: "retry", lastMessage: "Rate limited", retryInfo: "Retry 2/5 in 8s" }) }, 100)])
    expect(shownContentState(view, T0 + 200, 5000)).toMatchObject({ status: "retry", lastMessage: "Rate limited", retryInfo: "Retry 2/5 in 8s" })
  })

  it("a permission content-state shows at once (no grace: the poster decided)", () => {
    const { view } = foldView([legacy("progress", { contentState: contentState({ status: "permission", lastMessage: "Needs your decision" }) }, 100)])
    expect(shownContentState(view, T0 + 100, 5000)).toMatchObject({ status: "permission", lastMessage: "Needs your decision" })
    expect(view.alerts).toEqual([])
  })

  it("complete alerts with the post's title and body and ends the running turn with one alert", () => {
    const { view, outcomes } = foldView([
      legacy("start", { contentState: contentState({}) }, 100),
      legacy("complete", { title: "Session complete", body: "All done" }, 200)
    ])
    expect(outcomes[1]).toEqual({ _tag: "Applied", change: "legacy complete: alert, activity ends" })
    expect(view.alerts.map((a) => [a.seq, a.eventType, a.title, a.body, a.permissionId])).toEqual([[1, "complete", "Session complete", "All done", null]])
    expect(shownContentState(view, T0 + 300, 5000)).toMatchObject({ status: "complete", lastMessage: "All done" })
  })

  it("error ends the running turn as error", () => {
    const { view } = foldView([legacy("start", {}, 100), legacy("error", { body: "Build failed" }, 200)])
    expect(shownContentState(view, T0 + 300, 5000)).toMatchObject({ status: "error", lastMessage: "Build failed" })
    expect(view.alerts.map((a) => [a.eventType, a.title, a.body])).toEqual([["error", "OpenCode", "Build failed"]])
  })

  it("complete, permission or error without a turn is an alert only (the seed's behaviour)", () => {
    const { view, outcomes } = foldView([
      legacy("complete", { title: "Done", body: "Finished" }, 100),
      legacy("permission", { title: "Needs input", body: "bash: rm -rf" }, 200),
      legacy("error", { title: "Failed", body: "Boom" }, 300)
    ])
    expect(outcomes.map((o) => (o._tag === "Applied" ? o.change : o.reason))).toEqual([
      "legacy complete alert",
      "legacy permission alert",
      "legacy error alert"
    ])
    expect(view.turn).toBeNull()
    expect(view.alerts.map((a) => [a.seq, a.eventType, a.title, a.body])).toEqual([
      [1, "complete", "Done", "Finished"],
      [2, "permission", "Needs input", "bash: rm -rf"],
      [3, "error", "Failed", "Boom"]
    ])
  })

  it("a permission post during a turn alerts and shows the request at once", () => {
    const { view } = foldView([legacy("start", {}, 100), legacy("permission", { body: "bash: npm publish" }, 200)])
    expect(shownContentState(view, T0 + 200, 5000)).toMatchObject({ status: "permission", lastMessage: "bash: npm publish" })
    expect(view.alerts.map((a) => a.eventType)).toEqual(["permission"])
  })

  it("a content-state saying complete ends the turn without an alert", () => {
    const { view, outcomes } = foldView([legacy("start", {}, 100), legacy("progress", { contentState: contentState({ status: "complete", lastMessage: "Finished" }) }, 200)])
    expect(outcomes[1]).toEqual({ _tag: "Applied", change: "legacy progress: complete (no alert: not a complete/error post)" })
    expect(view.turn?.outcome).toBe("complete")
    expect(view.alerts).toEqual([])
  })

  it("ignores a malformed post and a malformed content-state field set", () => {
    const { reasons, view } = foldView([
      pl("pushline.legacy.event", { eventType: "celebrate", sessionID: "ses_root" }, 100, "ses_root"),
      legacy("start", { contentState: { status: "dancing" } }, 200)
    ])
    expect(reasons).toEqual(["malformed legacy /v1/event post", "applied"])
    expect(shownContentState(view, T0 + 300, 5000)?.status).toBe("working")
  })

  it("legacy posts are not subject to OpenCode's source-time order", () => {
    const { reasons } = foldView([busy(500), legacy("progress", { body: "older post" }, 100)])
    expect(reasons).toEqual(["applied", "applied"])
  })
})
