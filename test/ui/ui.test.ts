import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { chromium, type Browser, type Page } from "playwright-core"
import { PAGE_PATH } from "../../src/ui/UiLive.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { recordingSettings, recordSession } from "../support/recordedSession.ts"
import { request } from "../support/server.ts"

/**
 * Debian's chromium (CHROMIUM_PATH for another). CI installs it (.ci/run), and there a
 * missing browser fails the suite; elsewhere the browser test is skipped, saying how to
 * install it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? process.env.PUSHLINE_CHROMIUM ?? "/usr/bin/chromium"
const INSTALL = "apt-get install -y --no-install-recommends chromium"
const noBrowser = !existsSync(CHROMIUM) && process.env.CI !== "true"
if (noBrowser) {
  console.warn(`the /ui browser test is skipped: no Chromium at ${CHROMIUM}. Install it (${INSTALL}) or set CHROMIUM_PATH.`)
}
const ARTIFACTS = ".test-artifacts/ui"

const VIEWPORTS = [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1280, height: 800 }
] as const

const launch = Effect.acquireRelease(
  Effect.promise(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `the UI test needs Chromium at ${CHROMIUM} (set CHROMIUM_PATH to use another): install it with \`${INSTALL}\` (.ci/run does this)`
      )
    }
    mkdirSync(ARTIFACTS, { recursive: true })
    return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"], timeout: 60_000 })
  }),
  (browser: Browser) => Effect.promise(() => browser.close())
)

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText()
/** Selects a step by clicking its row in the list, and waits for the detail to show it. */
const clickStep = async (page: Page, position: string) => {
  await page.locator(`[data-testid=step-row][data-position="${position}"]`).click()
  await page.locator(`[data-testid=step-detail][data-position="${position}"]`).waitFor()
}

layer(pipelineLayer(recordingSettings), { excludeTestServices: true, timeout: 120_000 })("the /ui timeline page", (it) => {
  it.effect("is one self-contained document with a strict policy, and builds the DOM from text only", () =>
    Effect.gen(function*() {
      const { base } = yield* recordSession("ui-headers")
      const response = yield* Effect.promise(() => fetch(`${base}/ui`))
      const html = yield* Effect.promise(() => response.text())
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8")
      const csp = response.headers.get("content-security-policy")!
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("connect-src 'self'")
      expect(csp).toContain(`style-src 'nonce-${nonce}'`)
      expect(html).toContain(`<script nonce="${nonce}">`)
      expect(html).not.toContain("__CSP_NONCE__")
      // Nothing from elsewhere; no markup built from data.
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!opencode\.ai)/)
      const source = readFileSync(PAGE_PATH, "utf8")
      expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|localStorage|document\.cookie/)
      // A fresh nonce per response; /ui/ serves the page too.
      const again = yield* Effect.promise(() => fetch(`${base}/ui/`))
      expect(again.status).toBe(200)
      expect(again.headers.get("content-security-policy")).not.toContain(nonce)
    }))

  it.effect.skipIf(noBrowser)("steps through a recorded session as the phone showed it, on a phone and a desktop", () =>
    Effect.gen(function*() {
      const { activity, base, auth, lateId, secret, sessionId } = yield* recordSession("ui")
      const timeline = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=1000`, undefined, auth)
      expect(timeline.status).toBe(200)
      expect(timeline.body.nextAfter).toBe(null)
      const steps: Array<any> = timeline.body.steps
      const permission = steps.find((s) => s.type === "permission.asked")
      const late = steps.find((s) => s.eventId === lateId)
      const endStep = steps.find((s) => s.deliveries.some((d: any) => d.event === "end"))
      const end = endStep.deliveries.find((d: any) => d.event === "end")
      const throttled = steps.find((s) => s.decisions.some((d: any) => d.decision === "throttled"))
      expect([permission, late, endStep, throttled].every(Boolean)).toBe(true)
      expect(late.outcome).toBe("ignored")
      expect(end.status).toBe(200)

      const replay = yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, undefined, auth)
      expect(replay.status).toBe(200)

      const browser = yield* launch
      for (const viewport of VIEWPORTS) {
        yield* Effect.promise(async () => {
          /** Readable at this size (nothing wider than the window), then a screenshot. */
          const shot = async (what: string) => {
            const overflow = await page.evaluate(() => {
              const w = globalThis as any
              return w.document.documentElement.scrollWidth - w.innerWidth
            })
            expect(overflow, `${viewport.name} ${what}: page wider than the window`).toBeLessThanOrEqual(0)
            await page.screenshot({ path: `${ARTIFACTS}/${viewport.name}-${what}.png`, fullPage: true })
          }
          const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height } })
          const page = await context.newPage()
          page.setDefaultTimeout(15_000)
          const problems: Array<string> = []
          page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
          page.on("console", (message) => {
            // The deliberate 401 below is the only failed request expected.
            if (message.type() === "error" && !/status of 401/.test(message.text())) problems.push(`console: ${message.text()}`)
          })
          try {
            await page.goto(`${base}/ui`)

            // A secret the relay cannot use: a plain-words error, nothing stored.
            await page.getByTestId("secret-input").fill("too-short")
            await page.getByTestId("secret-submit").click()
            await expect.poll(() => text(page, "error")).toContain("did not accept this pairing secret (401")

            // The real secret: kept in sessionStorage only; the session is listed.
            await page.getByTestId("secret-input").fill(secret)
            await page.getByTestId("secret-submit").click()
            const item = page.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`)
            await item.waitFor()
            expect(await page.getByTestId("error").isVisible()).toBe(false)
            const storage = await page.evaluate(() => {
              const w = globalThis as any
              return { session: w.sessionStorage.getItem("pushline.secret"), local: w.localStorage.length, cookie: w.document.cookie }
            })
            expect(storage).toEqual({ session: secret, local: 0, cookie: "" })
            await shot("sessions")

            // Open it: every step of the API is a row, the first one selected.
            await item.click()
            await page.locator("[data-testid=step-list][data-loaded=true]").waitFor()
            expect(await page.getByTestId("step-row").count()).toBe(steps.length)
            expect(await text(page, "step-counter")).toBe(`Step 1 of ${steps.length}`)
            expect(await text(page, "step-position")).toBe(steps[0].position)
            expect(await page.getByTestId("step-prev").isDisabled()).toBe(true)

            // Next/previous buttons and the arrow keys move one step.
            await page.getByTestId("step-next").click()
            expect(await text(page, "step-position")).toBe(steps[1].position)
            await page.keyboard.press("ArrowRight")
            expect(await text(page, "step-counter")).toBe(`Step 3 of ${steps.length}`)
            expect(await text(page, "step-type")).toBe(steps[2].type)
            await page.keyboard.press("ArrowLeft")
            await page.getByTestId("step-prev").click()
            expect(await text(page, "step-position")).toBe(steps[0].position)

            // The permission step: its summary, and "permission" on the banner and the island.
            await clickStep(page, permission.position)
            expect(await text(page, "step-type")).toBe("permission.asked")
            expect(await text(page, "step-summary")).toBe(permission.summary)
            expect(await text(page, "step-outcome")).toBe("applied")
            expect(await page.getByTestId("live-activity").getAttribute("data-status")).toBe("permission")
            expect(await text(page, "la-banner-status")).toBe("Needs permission")
            expect(await text(page, "la-banner-title")).toBe(permission.contentState.sessionTitle)
            expect(await text(page, "la-banner-message")).toBe(permission.contentState.lastMessage)
            expect(await text(page, "la-compact-leading")).toBe("OC")
            expect(await text(page, "la-compact-trailing")).toBe("Needs input")
            expect(await text(page, "la-expanded-leading")).toContain("Needs permission")
            expect(await text(page, "la-expanded-trailing")).toMatch(/^\d+:\d\d$/)
            expect(await text(page, "la-expanded-bottom")).toContain(permission.contentState.lastMessage)
            await shot("permission")

            // A throttled decision is listed with its target.
            await clickStep(page, throttled.position)
            const decision = page.locator("[data-testid=decision][data-decision=throttled]").first()
            expect(await decision.innerText()).toContain(`…${activity.slice(-8)}`)

            // The `end` push: its payload as sent and APNs' 200 with the apns-id.
            await clickStep(page, endStep.position)
            const delivery = page.locator("[data-testid=delivery][data-event=end]")
            expect(await delivery.getByTestId("delivery-status").innerText()).toBe("200")
            expect(await delivery.getByTestId("delivery-apns-id").innerText()).toBe(end.apnsId)
            expect(await delivery.getByTestId("delivery-latency").innerText()).toMatch(/ms$/)
            expect(JSON.parse(await delivery.getByTestId("delivery-payload").innerText())).toEqual(end.payload)
            expect(end.payload.aps["content-state"].status).toBe("complete")
            expect(await text(page, "la-banner-status")).toBe("Complete")
            await delivery.scrollIntoViewIfNeeded()
            await shot("end")

            // The late, out-of-order event: ignored with its reason; the phone keeps the last applied state.
            await clickStep(page, late.position)
            expect(await text(page, "step-outcome")).toBe("ignored")
            expect(await text(page, "step-reason")).toBe(late.reason)
            expect(await text(page, "step-reason")).toMatch(/older than the newest applied event/)
            await page.getByTestId("la-carried").waitFor()
            expect(await text(page, "step-deliveries")).toContain("Nothing was sent to APNs at this step.")
            await shot("ignored")

            // The last step (End key): the session is complete on every surface.
            await page.keyboard.press("End")
            expect(await text(page, "step-counter")).toBe(`Step ${steps.length} of ${steps.length}`)
            expect(await page.getByTestId("step-next").isDisabled()).toBe(true)
            expect(await page.getByTestId("live-activity").getAttribute("data-status")).toBe("complete")
            expect(await text(page, "la-banner-status")).toBe("Complete")
            expect(await text(page, "la-compact-trailing")).toBe("Done")
            expect(await text(page, "la-expanded-leading")).toContain("Complete")
            await shot("final")

            // Replay with today's code: the API's verdict in words, each difference listed.
            await page.getByTestId("replay-button").click()
            await page.locator("[data-testid=replay-result][data-identical]").waitFor()
            const { differences, identical, pushes, recorded } = replay.body
            expect(await page.getByTestId("replay-result").getAttribute("data-identical")).toBe(String(identical))
            expect(await text(page, "replay-summary")).toBe(
              identical
                ? `Identical: today's code plans the same ${pushes.length} push(es) as the ${recorded} recorded.`
                : `Different: ${differences.missing.length} missing (replay would send, not recorded), ${differences.extra.length} ` +
                  `extra (recorded, replay would not send), ${differences.different.length} with different content; ` +
                  `replay plans ${pushes.length}, ${recorded} recorded.`
            )
            expect(await page.getByTestId("replay-difference").count()).toBe(
              differences.missing.length + differences.extra.length + differences.different.length
            )
            await page.getByTestId("replay-result").scrollIntoViewIfNeeded()
            await shot("replay")

            // Forget: the secret is gone and the list with it.
            await page.getByTestId("forget-secret").click()
            expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0)
            expect(await page.getByTestId("secret-card").isVisible()).toBe(true)
            expect(await page.getByTestId("session-view").isVisible()).toBe(false)
            expect(problems).toEqual([])
          } finally {
            await context.close()
          }
        })
      }
    }).pipe(Effect.scoped), { timeout: 120_000 })
})
