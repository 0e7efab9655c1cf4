import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { packageFile } from "../config/packageFiles.ts"

/** Where the page lives, whether run from the sources, the bundle or the Docker image. */
export const PAGE_PATH = packageFile("src/ui/page.html")

const NONCE = "__CSP_NONCE__"

/**
 * The page's policy: nothing but this document's own inline script and style
 * (by nonce, fresh per response) and fetches to this relay.
 */
export const contentSecurityPolicy = (nonce: string) =>
  [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")

/** The page with a fresh nonce and its headers. */
export const renderPage = (template: string) => {
  const nonce = randomBytes(16).toString("base64")
  return HttpServerResponse.text(template.replaceAll(NONCE, nonce), {
    contentType: "text/html; charset=utf-8",
    headers: {
      "content-security-policy": contentSecurityPolicy(nonce),
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store"
    }
  })
}

/**
 * `GET /ui`: the session timeline debugger, one self-contained HTML document
 * read once at start-up (`/ui/` too). Static routes win over the catch-all
 * 404 route whatever the order of registration.
 */
export const UiLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const template = yield* Effect.sync(() => readFileSync(PAGE_PATH, "utf8"))
    // The router ignores a trailing slash: this serves `/ui/` as well.
    yield* router.get("/ui", Effect.sync(() => renderPage(template)))
  })
)
