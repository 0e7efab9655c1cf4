import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../health/Api.ts"
import { IngestApi } from "../ingest/Api.ts"
import { LegacyApi } from "../legacy/Api.ts"
import { RegistrationsApi } from "../registrations/Api.ts"
import { ReplayApi } from "../replay/Api.ts"
import { SessionsApi } from "../sessions/Api.ts"
import { TimelineApi } from "../timeline/Api.ts"
import { BadRequest, DatabaseUnavailable, NotFound, PayloadTooLarge, RequestTimeout, Unauthorized } from "../http/ApiErrors.ts"

export class PushlineApi extends HttpApi.make("pushline")
  .add(HealthApi)
  .add(RegistrationsApi)
  .add(LegacyApi)
  .add(IngestApi)
  .add(SessionsApi)
  .add(TimelineApi)
  .add(ReplayApi)
  .addError(BadRequest)
  .addError(Unauthorized)
  .addError(NotFound)
  .addError(RequestTimeout)
  .addError(PayloadTooLarge)
  .addError(DatabaseUnavailable)
  .annotate(OpenApi.Title, "Pushline")
  .annotate(OpenApi.Description, "Event-sourced APNs relay for OpenCode sessions")
{}
