import { StateMachine } from "aws-local-stepfunctions";
import { checkPayload, DataLimitExceeded, maxPayloadBytes, payloadBytes } from "./payload-limit.ts";
import { type AslDefinition, waitMilliseconds } from "./time-scale.ts";

/**
 * What Step Functions checks between states and aws-local-stepfunctions does not: the payload
 * quota of every state's input and output, each Map iteration's input and each Map's aggregated
 * result, and the (scaled) duration of every Wait state.
 *
 * The library exposes no hook between states, so the guard wraps, for its own executions
 * only, the library's event dispatch: a state's entry and exit are dispatched synchronously
 * inside the library's state loop, so an error thrown there ends the (nested) execution
 * before any further state runs, and the library's Retry/Catch matching skips the
 * non-retryable, non-catchable DataLimitExceeded up to the root.
 */
export class LimitsGuard {
  /** The library reads a Wait duration override by state name right after the state is entered. */
  readonly waitTimeOverrides: Record<string, number>;
  private readonly pendingWaits = new Map<string, number>();
  /** Each state's input as it was last entered (what a waiting Task's TimeoutSecondsPath reads). */
  readonly enteredInputs = new Map<string, unknown>();
  private readonly mapResults = new Map<AslDefinition, { state: string; bytes: number }>();

  constructor(private readonly scale: number) {
    this.waitTimeOverrides = new Proxy(
      {},
      { get: (_target, name) => (typeof name === "string" ? this.pendingWaits.get(name) : undefined) },
    );
  }

  /** Called for every execution of the library that carries this guard (the root and each Map iteration). */
  async execute(
    machine: AslDefinition,
    isRoot: boolean,
    input: unknown,
    logger: LibraryEventLogger,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    const aggregate = isRoot ? undefined : this.mapResults.get(machine);
    if (aggregate) checkPayload(input, `The input of an iteration of Map state '${aggregate.state}'`);
    this.watch(machine, isRoot, logger);
    const output = await run();
    if (aggregate) {
      // The Map's result is the JSON array of its iterations' outputs.
      aggregate.bytes += payloadBytes(output) + 1;
      if (aggregate.bytes > maxPayloadBytes) {
        throw new DataLimitExceeded(
          `The result of Map state '${aggregate.state}' has a size of more than ${aggregate.bytes} bytes, exceeding the maximum number of bytes service limit (${maxPayloadBytes})`,
        );
      }
    }
    return output;
  }

  private watch(machine: AslDefinition, isRoot: boolean, logger: LibraryEventLogger): void {
    const entered = logger.dispatchStateEnteredEvent.bind(logger);
    const exited = logger.dispatchStateExitedEvent.bind(logger);
    logger.dispatchStateEnteredEvent = (name, type, input) => {
      entered(name, type, input);
      checkPayload(input, `The input of state '${name}'`);
      if (isRoot) this.enteredInputs.set(name, input);
      const state = machine.States[name];
      if (state?.Type === "Wait") this.pendingWaits.set(name, waitMilliseconds(state, input, this.scale));
      const processor = state?.ItemProcessor ?? state?.Iterator;
      // Iterations are told apart from other executions by their definition, the Map's processor
      // (one count per Map state: a Map nested in a Map's concurrent iterations shares it).
      if (processor) this.mapResults.set(processor, { state: name, bytes: 1 });
    };
    logger.dispatchStateExitedEvent = (name, type, input, output) => {
      checkPayload(output, `The output of state '${name}'`);
      exited(name, type, input, output);
    };
    // A retried Map state runs all its iterations again: its result starts anew.
    const retried = logger.dispatchStateRetriedEvent.bind(logger);
    logger.dispatchStateRetriedEvent = (name, ...rest) => {
      const processor = machine.States[name]?.ItemProcessor ?? machine.States[name]?.Iterator;
      if (processor) this.mapResults.set(processor, { state: name, bytes: 1 });
      retried(name, ...rest);
    };
  }
}

/** The dispatch methods of the library's (internal) event logger the guard wraps. */
interface LibraryEventLogger {
  dispatchStateEnteredEvent(name: string, type: string, input: unknown): void;
  dispatchStateExitedEvent(name: string, type: string, input: unknown, output: unknown): void;
  dispatchStateRetriedEvent(name: string, ...rest: unknown[]): void;
}

type LibraryExecute = (
  this: { definition: AslDefinition },
  input: unknown,
  options: { runOptions?: Record<PropertyKey, unknown>; eventLogger: LibraryEventLogger },
  cleanup: () => void,
) => Promise<unknown>;

/** The run option that carries a guard into every nested execution (the library spreads run options into them). */
export const guardOption = Symbol.for("kubeferry.limitsGuard");
const rootOption = Symbol.for("kubeferry.limitsGuardRoot");

/**
 * Wraps the library's execution loop once per process. Executions without a guard run as the
 * library wrote them.
 */
export function installGuardHook(): void {
  const prototype = StateMachine.prototype as unknown as { execute: LibraryExecute; [rootOption]?: true };
  if (prototype[rootOption]) return;
  prototype[rootOption] = true;
  const original = prototype.execute;
  prototype.execute = function (input, options, cleanup) {
    const guarded = options.runOptions?.[guardOption] as { guard: LimitsGuard; root: unknown } | undefined;
    if (!guarded) return original.call(this, input, options, cleanup);
    return guarded.guard.execute(this.definition, this === guarded.root, input, options.eventLogger, () =>
      original.call(this, input, options, cleanup),
    );
  };
}
