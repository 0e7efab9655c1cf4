import { ConfigProvider, Layer } from "effect"

/**
 * The environment as the relay's configuration reads it: a variable set to the empty
 * string is unset. docker compose passes `APNS_TEAM_ID=""` for every `${APNS_TEAM_ID:-}`
 * it forwards, and an operator who blanks a variable means "the default", not "invalid".
 */
export const nonEmptyEnv = (env: NodeJS.ProcessEnv = process.env): Map<string, string> =>
  new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""))

/** One environment variable, with "" read as unset. */
export const envVar = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const value = env[name]
  return value === undefined || value === "" ? undefined : value
}

/** Effect's environment provider (`_` between path parts, `,` between list items) over `nonEmptyEnv`. */
export const EnvironmentLive = (env: NodeJS.ProcessEnv = process.env) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(nonEmptyEnv(env), { pathDelim: "_", seqDelim: "," }))
