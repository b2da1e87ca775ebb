import { readFile } from "node:fs/promises";
import { parse, YAMLParseError } from "yaml";
import { z } from "zod";

/** A number, or `[min, max]` to draw uniformly from; either way it becomes `[min, max]`. */
const range = (check: (n: z.ZodNumber) => z.ZodNumber = (n) => n) =>
  z
    .union([check(z.number()), z.tuple([check(z.number()), check(z.number())])])
    .transform((v): [number, number] => (typeof v === "number" ? [v, v] : v))
    .refine(([min, max]) => min <= max, "range must be [min, max] with min <= max");

const nonNegative = (n: z.ZodNumber) => n.nonnegative();
const fraction = (n: z.ZodNumber) => n.min(0).max(1);

const rateAndDuration = z.strictObject({
  /** Events per minute across the whole fleet. */
  perMinute: z.number().nonnegative(),
  /** How long each lasts. */
  durationSeconds: range((n) => n.positive()),
});

/**
 * A scenario file. Every section but `drivers` is optional; `strictObject` everywhere, so a
 * misspelt field is an error rather than a silently ignored default.
 */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Drivers arrive during this window (the CLI's --duration overrides it). */
  durationSeconds: z.number().positive(),
  /** After the window: how long open sessions and reservations may take to settle. */
  drainSeconds: z.number().nonnegative().default(30),
  /** Same seed, same arrivals and chaos schedule. */
  seed: z.number().int().optional(),
  chargers: z
    .strictObject({
      /** Simulated chargers when the CLI has no --count. */
      count: z.number().int().positive().default(10),
      meterMs: z.number().int().positive().default(1_000),
      heartbeatMs: z.number().int().positive().default(10_000),
      powerW: z.number().positive().default(11_000),
      /** Each charger's clock offset from real time, drawn once per charger. */
      clockSkewMs: range().default([0, 0]),
      /** Offline buffer size per charger. */
      bufferSize: z.number().int().positive().default(1_000),
      /** The car of each session: drawn anew per session. */
      ev: z
        .strictObject({
          batteryKWh: range((n) => n.positive()).default([60, 60]),
          initialSoc: range(fraction).default([0.2, 0.2]),
          targetSoc: range((n) => n.gt(0).max(1)).default([1, 1]),
          maxPowerW: range((n) => n.positive()).optional(),
          rampSeconds: range(nonNegative).default([5, 5]),
          taperFromSoc: range((n) => n.gt(0).lt(1)).default([0.8, 0.8]),
        })
        .default({ batteryKWh: [60, 60], initialSoc: [0.2, 0.2], targetSoc: [1, 1], rampSeconds: [5, 5], taperFromSoc: [0.8, 0.8] }),
      /** End sessions `ev_full` when the car is full. */
      stopWhenFull: z.boolean().default(true),
    })
    .prefault({}),
  drivers: z.strictObject({
    /** Mean arrival rate (a Poisson process) across the fleet. */
    arrivalsPerMinute: z.number().positive(),
    /** Share of drivers who reserve and never come: their reservations must expire by themselves. */
    noShowFraction: fraction(z.number()).default(0),
    /** Share of drivers who cancel instead of starting. */
    cancelFraction: fraction(z.number()).default(0),
    /** From reservation to pressing start. */
    startDelaySeconds: range(nonNegative).default([1, 1]),
    /** How long a driver charges before pressing stop, unless the car is full first. */
    chargeSeconds: range((n) => n.positive()).default([10, 10]),
  }).refine((d) => d.noShowFraction + d.cancelFraction <= 1, {
    message: "noShowFraction + cancelFraction must not exceed 1",
    path: ["cancelFraction"],
  }),
  faults: rateAndDuration.optional(),
  networkDrops: rateAndDuration.optional(),
  invariants: z
    .strictObject({
      /** How far past `expiresAt` a reservation may still be `reserved` (sweep interval, clock skew). */
      graceSeconds: z.number().nonnegative().default(5),
    })
    .prefault({}),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type Range = [number, number];

/** A scenario file that cannot be used, with every problem named by field and the file named too. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid scenario file ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ScenarioError";
  }
}

/** One line per problem, `field.path: what is wrong`; `raw` is the parsed document, to tell missing from wrong. */
export function formatIssues(error: z.ZodError, raw: unknown): string[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${at ? `${at}.` : ""}${k}: unknown field`);
    }
    const value = issue.path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
    const message =
      value === undefined && issue.path.length > 0
        ? "required field is missing"
        : issue.code === "invalid_union"
          ? "expected a number or a range [min, max]"
          : issue.message;
    return [`${at || "(top level)"}: ${message}`];
  });
}

/** Parses and validates scenario text; `file` only names the source in errors. */
export function parseScenario(text: string, file: string, overrides: { durationSeconds?: number } = {}): Scenario {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const pos = error.linePos?.[0];
      throw new ScenarioError(file, [`YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`]);
    }
    throw error;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ScenarioError(file, ["(top level): expected a mapping of fields (name, durationSeconds, drivers, …)"]);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(file, formatIssues(parsed.error, raw));
  const scenario = parsed.data;
  if (overrides.durationSeconds !== undefined) scenario.durationSeconds = overrides.durationSeconds;
  return scenario;
}

export async function loadScenario(file: string, overrides: { durationSeconds?: number } = {}): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ScenarioError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseScenario(text, file, overrides);
}
