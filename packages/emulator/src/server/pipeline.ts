// How a request flows: the route table picks a route, then the steps (request
// log, internal errors, faults) run around it, each able to answer instead of
// the route or to change its answer.
import type { FaultTarget } from "../lib/faults/injector.js";
import { json, type Answer, type Outcome } from "./answer.js";
import type { EmulatorRequest } from "./request.js";

/** An endpoint family. */
export interface Route {
  /**
   * What fault rules are matched on, or undefined to exempt the request from faults.
   * @default the `{tenant}` segment of a tenant-scoped path and a `client_id` query parameter
   */
  faultTarget?(request: EmulatorRequest): Promise<FaultTarget | undefined>;
  /** Answers the request. Throwing is a bug: the client gets a 500. */
  handle(request: EmulatorRequest): Promise<Answer>;
}

/** One row of the route table: the first row whose `when` holds handles the request. */
export interface RouteRow {
  readonly when: (request: EmulatorRequest) => boolean;
  readonly route: Route;
  /**
   * The path starts with a `{tenant}` segment (recorded as the request's tenant).
   * @default false
   */
  readonly tenantScoped?: boolean;
}

/** Handles a request to its outcome. */
export type Handler = (request: EmulatorRequest) => Promise<Outcome>;

/** Runs around the route: calls `next` to go on, or answers itself. */
export type Step = (request: EmulatorRequest, next: Handler, route: Route) => Promise<Outcome>;

/**
 * The emulator's handler: the route table's first matching row, behind the steps
 * in order (the first step is the outermost).
 * @param table must end with a row that matches every request.
 */
export function createHandler(table: readonly RouteRow[], steps: readonly Step[]): Handler {
  return (request) => {
    const row = table.find((candidate) => candidate.when(request));
    if (row === undefined) throw new Error("The emulator's route table has no row for this request; its last row must match every request.");
    if (row.tenantScoped === true) request.note({ tenant: request.segments[0] });
    const run = (index: number): Handler => {
      const step = steps[index];
      return step === undefined ? (inner) => row.route.handle(inner) : (inner) => step(inner, run(index + 1), row.route);
    };
    return run(0)(request);
  };
}

/** A bug in the emulator must not hang the client: it gets a 500, as in a real outage, and the log says why. */
export function internalErrorStep(log: ((line: string) => void) | undefined): Step {
  return async (request, next) => {
    try {
      return await next(request);
    } catch (error) {
      log?.(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      return json(500, { error: "server_error", error_description: "The daemon-auth emulator failed to handle the request." });
    }
  };
}
