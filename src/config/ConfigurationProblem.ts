import { type ConfigError, Data } from "effect"

/**
 * A setting the relay cannot run with, named: the CLI prints its message as one line
 * and exits with status 2 (no stack trace: there is no bug to report).
 */
export class ConfigurationProblem extends Data.TaggedError("ConfigurationProblem")<{
  readonly variable: string
  readonly message: string
}> {}

export const configurationProblem = (variable: string, detail: string) =>
  new ConfigurationProblem({ variable, message: `${variable}: ${detail}` })

/** Effect's ConfigError already names the variable ("Invalid data at PORT: ..."). */
export const fromConfigError = (error: ConfigError.ConfigError) =>
  new ConfigurationProblem({ variable: "", message: `configuration: ${String(error).replace(/^\(|\)$/g, "")}` })
